/**
 * Pipelines C and D from the learned rescaling pair, built on the encoder's own pieces so that
 * `hcd compare` measures exactly what `hcd encode` ships:
 * - C: the pair's plain downscaler (PairRescaler), x264, the pair's upscaler (as the browser runs it).
 * - D: HCD-optimized LR frames (createRescaler with HCD iterations, warm starts reset at scene
 *   cuts as in the encoder), x264, the same upscaler.
 * E (codec-aware HCD, one LR video per bitrate) needs the rendition in the loop and is not built here.
 */
import { HcdError } from '../../shared/errors.js';
import { imageToTensor, tensorToImage } from '../../shared/image.js';
import { SceneCutDetector } from '../frames/scenecut.js';
import { createSession, ort } from '../onnx/session.js';
import { defaultModelId, loadPair, type RescalingPair } from '../pipeline/pair.js';
import { createRescaler } from '../pipeline/rescaler.js';
import type { FramePipeline, Size } from './types.js';

export interface LearnedOptions {
  /** Pair id or path (see docs/pairs.md); default as `hcd encode`: hcd-x2 when trained, else rdn-x2. */
  model?: string;
  /** The scale the other pipelines use; the pair must have the same. */
  scale: number;
  threads?: number;
  /** HCD iterations (HR, LR stage) for D. */
  hcdIters?: [number, number];
}

async function* downWith(pair: RescalingPair, frames: AsyncIterable<Uint8Array>, src: Size, threads: number | undefined, hcd?: [number, number]): AsyncGenerator<Uint8Array> {
  const rescaler = await createRescaler(pair, { threads, hcd: hcd ? { hrIters: hcd[0], lrIters: hcd[1] } : undefined });
  const scenes = new SceneCutDetector();
  try {
    let index = 0;
    for await (const data of frames) {
      const hr = { width: src.width, height: src.height, data };
      yield (await rescaler.process(hr, { index, sceneCut: scenes.next(hr) })).data;
      index++;
    }
  } finally {
    await rescaler.close();
  }
}

/** The pair's canonical upscaler on each frame, rounded to 8 bits as a canvas would show it. */
async function* upWith(pair: RescalingPair, frames: AsyncIterable<Uint8Array>, lr: Size, threads: number | undefined): AsyncGenerator<Uint8Array> {
  const extras = pair.manifest.extraInputs.filter((e) => e.network === 'upscaler');
  if (extras.some((e) => e.fill !== 'zeros')) throw new HcdError(`model '${pair.manifest.id}': its upscaler wants random extra inputs, which the player does not feed`);
  const session = await createSession(pair.upscaler, { threads });
  const s = pair.manifest.scale;
  try {
    for await (const data of frames) {
      const feeds: Record<string, ort.Tensor> = {
        [session.inputNames[0]]: new ort.Tensor('float32', imageToTensor({ width: lr.width, height: lr.height, data }), [1, 3, lr.height, lr.width]),
      };
      for (const x of extras) feeds[x.name] = new ort.Tensor('float32', new Float32Array(x.channels * lr.width * lr.height), [1, x.channels, lr.height, lr.width]);
      const y = (await session.run(feeds))[session.outputNames[0]];
      const [, , h, w] = y.dims;
      if (h !== lr.height * s || w !== lr.width * s) throw new HcdError(`model '${pair.manifest.id}': upscaler gave ${w}x${h} for ${lr.width}x${lr.height} at scale ${s}`);
      yield tensorToImage(y.data as Float32Array, w, h).data;
    }
  } finally {
    await session.release();
  }
}

export async function learnedPipeline(id: 'C' | 'D', o: LearnedOptions): Promise<FramePipeline> {
  const model = o.model ?? defaultModelId();
  const pair = await loadPair(model);
  if (pair.manifest.scale !== o.scale) throw new HcdError(`model '${pair.manifest.id}' is x${pair.manifest.scale}, the comparison runs at --scale ${o.scale}`);
  const hcd = id === 'D' ? (o.hcdIters ?? [10, 10]) : undefined;
  if (hcd && !(hcd[0] > 0 || hcd[1] > 0)) throw new HcdError('pipeline D needs HCD iterations (--hcd-iters HR,LR with at least one above 0)');
  const label = id === 'C' ? `${pair.manifest.id} down, x264, ${pair.manifest.id} up` : `HCD (${hcd![0]},${hcd![1]} iters) on ${pair.manifest.id}, x264, ${pair.manifest.id} up`;
  return {
    kind: 'frames',
    id,
    label,
    scale: o.scale,
    downscale: (frames, src) => downWith(pair, frames, src, o.threads, hcd),
    upscale: (frames, lr) => upWith(pair, frames, lr, o.threads),
  };
}
