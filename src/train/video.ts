/**
 * U trained on what it sees in a stream: `hcd train-data` sequences, x264's decoded LR frames
 * (inter-coded, 4:2:0, at the low rungs' CRFs) against the HR frames they came from. D stays
 * frozen: it made those frames. Plain U runs each frame alone; a recurrent U is unrolled over
 * `unroll` consecutive frames from a reset (truncated BPTT, ./recurrent.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildGradientModel } from '../encoder/graph/autodiff/index.js';
import { createSession, ort } from '../encoder/graph/session.js';
import { Rng } from '../shared/rng.js';
import { adamStep, DEFAULT_ADAM, learningRate, newSlot, type AdamConfig } from './adam.js';
import type { PairArch } from './nets.js';
import type { Params } from './params.js';
import { buildRecurrentObjective } from './recurrent.js';
import type { SequenceSet } from './sequences.js';

export interface VideoTrainOptions {
  steps: number;
  batch: number;
  /** LR crop side. */
  crop: number;
  /** Frames per sample: the truncation length of a recurrent U (a plain U sees them one by one). */
  unroll: number;
  recurrent: boolean;
  adam: AdamConfig;
  seed: number;
  threads?: number;
}

export const VIDEO_TRAIN_DEFAULTS: VideoTrainOptions = { steps: 3000, batch: 8, crop: 32, unroll: 3, recurrent: false, adam: { ...DEFAULT_ADAM, lr: 5e-4 }, seed: 11 };

/** The bicubic residual filters have many taps whose sum is the gain: a much smaller rate (as the still trainer). */
const RES_LR_SCALE = 0.01;

/** The sequences' raw frames, each file read once. */
class Frames {
  private readonly files = new Map<string, Uint8Array>();
  constructor(private readonly dir: string) {}
  get(id: string, file: string): Uint8Array {
    const key = `${id}/${file}`;
    let buf = this.files.get(key);
    if (!buf) {
      buf = new Uint8Array(readFileSync(join(this.dir, id, file)));
      this.files.set(key, buf);
    }
    return buf;
  }
}

/** Planar 0-1 crop (cw x ch at x, y) of frame t of a packed RGB24 file of w x h frames, into out at off. */
export function cropPlanar(buf: Uint8Array, w: number, h: number, t: number, x: number, y: number, cw: number, ch: number, out: Float32Array, off: number): void {
  const base = t * h * w;
  for (let c = 0; c < 3; c++) for (let j = 0; j < ch; j++) for (let i = 0; i < cw; i++) out[off + (c * ch + j) * cw + i] = buf[(base + (y + j) * w + x + i) * 3 + c] / 255;
}

/** One batch: per frame of the unroll, the decoded LR crops and their HR crops, a random sequence, CRF and place per sample. */
function sampleBatch(set: SequenceSet, frames: Frames, o: VideoTrainOptions, scale: number, rng: Rng): { lr: Float32Array[]; hr: Float32Array[] } {
  const { width: W, height: H } = set.lrSize;
  const n = set.settings.frames;
  const c = o.crop;
  const C = c * scale;
  const crfs = set.settings.crfs;
  const lr = Array.from({ length: o.unroll }, () => new Float32Array(o.batch * 3 * c * c));
  const hr = Array.from({ length: o.unroll }, () => new Float32Array(o.batch * 3 * C * C));
  for (let b = 0; b < o.batch; b++) {
    const seq = set.sequences[rng.int(set.sequences.length)];
    const crf = crfs[rng.int(crfs.length)];
    const t0 = rng.int(n - o.unroll + 1);
    const x = rng.int(W - c + 1);
    const y = rng.int(H - c + 1);
    const dec = frames.get(seq.id, seq.decoded[crf]);
    const hi = frames.get(seq.id, seq.hr);
    for (let t = 0; t < o.unroll; t++) {
      cropPlanar(dec, W, H, t0 + t, x, y, c, c, lr[t], b * 3 * c * c);
      cropPlanar(hi, W * scale, H * scale, t0 + t, x * scale, y * scale, C, C, hr[t], b * 3 * C * C);
    }
  }
  return { lr, hr };
}

export interface VideoStep {
  step: number;
  of: number;
  /** PSNR of the batch's MSE over every frame of the unroll (RGB, 0-1). */
  psnr: number;
  msPerStep: number;
}

/**
 * Trains the 'up.' tensors of `init` (a copy; recurrent if `o.recurrent`, see recurrentUp) on
 * the sequences in `dir`. Returns the trained tensors.
 */
export async function trainUpOnSequences(init: Params, arch: PairArch, set: SequenceSet, dir: string, o: VideoTrainOptions, onStep?: (s: VideoStep) => void): Promise<Params> {
  if (set.lrSize.width < o.crop || set.lrSize.height < o.crop) throw new Error(`LR crop ${o.crop} is larger than the sequences' ${set.lrSize.width}x${set.lrSize.height}`);
  if (set.settings.frames < o.unroll) throw new Error(`an unroll of ${o.unroll} frames needs sequences of at least that many (they have ${set.settings.frames})`);
  const p: Params = new Map([...init].map(([k, v]) => [k, { dims: v.dims, data: v.data.slice() }]));
  const names = [...p.keys()].filter((k) => k.startsWith('up.'));
  const s = arch.scale;
  const model = buildGradientModel(buildRecurrentObjective(p, arch, o.unroll, o.recurrent), { wrt: names, loss: { kind: 'scalar', output: 'loss' } });
  const sess = await createSession(model, { threads: o.threads });
  const weights = Object.fromEntries(names.map((n) => [n, new ort.Tensor('float32', p.get(n)!.data, p.get(n)!.dims)]));
  const slots = new Map(names.map((n) => [n, newSlot(p.get(n)!.data.length)]));
  const frames = new Frames(dir);
  const rng = new Rng(o.seed);
  const C = o.crop * s;
  // after a reset the previous output is zeros: every unroll starts there
  const prev = new ort.Tensor('float32', new Float32Array(o.batch * 3 * C * C), [o.batch, 3, C, C]);
  try {
    for (let step = 0; step < o.steps; step++) {
      const t0 = performance.now();
      const { lr, hr } = sampleBatch(set, frames, o, s, rng);
      const feeds: Record<string, ort.Tensor> = { prev, ...weights };
      lr.forEach((x, t) => (feeds[`lr${t}`] = new ort.Tensor('float32', x, [o.batch, 3, o.crop, o.crop])));
      hr.forEach((x, t) => (feeds[`hr${t}`] = new ort.Tensor('float32', x, [o.batch, 3, C, C])));
      const r = await sess.run(feeds);
      const rate = learningRate(o.adam, step, o.steps);
      for (const n of names) adamStep(p.get(n)!.data, r[`grad_${n}`].data as Float32Array, slots.get(n)!, o.adam, n.endsWith('.res.w') ? rate * RES_LR_SCALE : rate, step + 1, false);
      const loss = (r.loss.data as Float32Array)[0];
      if (!Number.isFinite(loss)) throw new Error(`training diverged at step ${step + 1} (loss ${loss})`);
      onStep?.({ step: step + 1, of: o.steps, psnr: -10 * Math.log10(Math.max(loss, 1e-12)), msPerStep: performance.now() - t0 });
    }
  } finally {
    await sess.release();
  }
  return p;
}
