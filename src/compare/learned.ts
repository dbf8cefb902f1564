/**
 * Pipelines C and D from the learned rescaling pair, built on the encoder's own pieces so that
 * `hcd compare` measures exactly what `hcd encode` ships:
 * - C: the pair's plain downscaler (PairRescaler), x264, the pair's upscaler (as the browser runs it).
 * - D: HCD-optimized LR frames (createRescaler with HCD iterations, warm starts reset at scene
 *   cuts as in the encoder), x264, the same upscaler.
 * - E: D's frames, then per rate point the codec-aware LR stage (CodecLoop): every keyframe
 *   interval is re-optimized through a real encode and decode at that point's CRF, as
 *   `hcd encode --codec-aware` does per segment and rendition.
 * - C4: C with an x4 pair (--model4, default hcd-x4), so that an x4 learned rung is measured
 *   beside the x2 one in the same comparison.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS } from '../config.js';
import { HcdError } from '../shared/errors.js';
import { SceneCutDetector } from '../encoder/media/scenecut.js';
import { defaultModelId, loadPair, type RescalingPair } from '../encoder/pairs/load.js';
import { modelsDir } from '../encoder/pairs/index.js';
import { PairNetwork } from '../encoder/pairs/network.js';
import { createRescaler } from '../encoder/hcd/rescalers.js';
import { CodecLoop, type CodecLoopOptions } from '../encoder/hcd/codec-loop.js';
import type { FramePipeline, RefineChunk, Size } from './types.js';

export interface LearnedOptions {
  /** Pair id or path (see docs/pairs.md); default as `hcd encode`: hcd-x2 when trained, else rdn-x2. */
  model?: string;
  /** The scale the other pipelines use; the pair must have the same. */
  scale: number;
  /** Pair id or path for C4; default hcd-x4 when trained, else rdn-x4. */
  model4?: string;
  threads?: number;
  /** HCD iterations (HR, LR stage) for D and E. */
  hcdIters?: [number, number];
  /** E's closed loop (passes, step, radius); defaults CODEC_LOOP_DEFAULTS. */
  codecLoop?: Partial<CodecLoopOptions>;
  log?: (line: string) => void;
}

async function* downWith(pair: RescalingPair, frames: AsyncIterable<Uint8Array>, src: Size, threads: number | undefined, hcd?: [number, number]): AsyncGenerator<Uint8Array> {
  const rescaler = await createRescaler(pair, { threads, hcdIters: hcd });
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
  if (pair.manifest.extraInputs.some((e) => e.network === 'upscaler' && e.fill !== 'zeros')) {
    throw new HcdError(`model '${pair.manifest.id}': its upscaler wants random extra inputs, which the player does not feed`);
  }
  const up = await PairNetwork.up(pair, '420', { threads });
  try {
    for await (const data of frames) yield (await up.runRgb({ width: lr.width, height: lr.height, data })).data;
  } finally {
    await up.close();
  }
}

export type LearnedId = 'C' | 'D' | 'E' | 'C4';

/** hcd-x4 once it has been trained into models/, else the pretrained RDN pair (as defaultModelId for x2). */
function defaultX4ModelId(): string {
  return existsSync(join(modelsDir(), 'hcd-x4', 'manifest.json')) ? 'hcd-x4' : 'rdn-x4';
}

/** C4: the x4 pair's plain downscaler and upscaler. */
async function x4Pipeline(o: LearnedOptions): Promise<FramePipeline> {
  const pair = await loadPair(o.model4 ?? defaultX4ModelId());
  if (pair.manifest.scale !== 4) throw new HcdError(`model '${pair.manifest.id}' is x${pair.manifest.scale}; pipeline C4 needs an x4 pair (--model4)`);
  return {
    kind: 'frames',
    id: 'C4',
    label: `${pair.manifest.id} down, x264, ${pair.manifest.id} up`,
    scale: 4,
    downscale: (frames, src) => downWith(pair, frames, src, o.threads),
    upscale: (frames, lr) => upWith(pair, frames, lr, o.threads),
  };
}

export async function learnedPipeline(id: LearnedId, o: LearnedOptions): Promise<FramePipeline> {
  if (id === 'C4') return x4Pipeline(o);
  const model = o.model ?? defaultModelId();
  const pair = await loadPair(model);
  if (pair.manifest.scale !== o.scale) throw new HcdError(`model '${pair.manifest.id}' is x${pair.manifest.scale}, the comparison runs at --scale ${o.scale}`);
  const hcd = id === 'C' ? undefined : (o.hcdIters ?? [...DEFAULTS.compare.hcdIters]);
  if (id === 'D' && !(hcd![0] > 0 || hcd![1] > 0)) throw new HcdError('pipeline D needs HCD iterations (--hcd-iters HR,LR with at least one above 0)');
  const useHcd = hcd && (hcd[0] > 0 || hcd[1] > 0) ? hcd : undefined;
  const hcdLabel = useHcd ? `HCD (${useHcd[0]},${useHcd[1]} iters) on ${pair.manifest.id}` : `${pair.manifest.id} down`;
  const label = id === 'C' ? `${pair.manifest.id} down, x264, ${pair.manifest.id} up` : id === 'D' ? `${hcdLabel}, x264, ${pair.manifest.id} up` : `${hcdLabel} + codec in the loop, x264, ${pair.manifest.id} up`;
  const base: FramePipeline = {
    kind: 'frames',
    id,
    label,
    scale: o.scale,
    downscale: (frames, src) => downWith(pair, frames, src, o.threads, useHcd),
    upscale: (frames, lr) => upWith(pair, frames, lr, o.threads),
  };
  if (id !== 'E') return base;
  let loop: CodecLoop | undefined;
  return {
    ...base,
    // E starts where D ends; with no HCD iterations it starts from C's frames
    sameLrAs: useHcd ? 'D' : 'C',
    async refine(chunk: RefineChunk) {
      loop ??= await CodecLoop.create(pair, { threads: o.threads });
      const r = await loop.run(chunk.source, chunk.lr, chunk.size, (f) => chunk.roundtrip(f), o.codecLoop);
      o.log?.(`    E crf ${chunk.crf}: PSNR after the codec ${r.losses.map((m, i) => `${(-10 * Math.log10(m)).toFixed(2)} dB/${r.bytes[i]} B`).join(' -> ')} (RGB), kept pass ${r.best}`);
      return r.frames;
    },
    async close() {
      await loop?.close();
      loop = undefined;
    },
  };
}
