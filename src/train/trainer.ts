import { attr, GraphBuilder } from '../encoder/graph/builder.js';
import { createSession, ort } from '../encoder/graph/session.js';
import { adamStep, DEFAULT_ADAM, learningRate, newSlot, type AdamConfig } from './adam.js';
import { saveCheckpoint, type TrainState, type ValRecord } from './checkpoint.js';
import { jpegSteps, losslessSteps } from './codec.js';
import { sampleBatch, saturateBatch, type TrainImage } from './data.js';
import { buildLrModel, buildTrainingModel, type ChromaMode } from './graph.js';
import { validateX264, x264Residual } from './x264.js';
import { addChroma420 } from '../encoder/graph/chroma.js';
import { addBicubicDown, addDownscaler, addUpscaler, initPair, type PairArch } from './nets.js';
import type { Params } from './params.js';
import { Rng } from '../shared/rng.js';

/** x264 CRF range of `--codec x264` runs that do not set one: high-quality to low-bitrate renditions. */
export const DEFAULT_CRF: [number, number] = [20, 44];

/** The CRF at which `--codec x264` runs validate: the middle of their training range. */
export function valCrf(cfg: TrainConfig): number {
  const [lo, hi] = cfg.crf ?? DEFAULT_CRF;
  return Math.round((lo + hi) / 2);
}

/** Learning-rate factor of the learnable bicubic residual filters. */
const RES_LR_SCALE = 0.01;
/** Share of the samples that go through 4:2:0 under chroma 'mix', unless the config says. */
export const MIX_420_PROB = 0.5;

export interface TrainConfig {
  scale: number;
  steps: number;
  batch: number;
  crop: number;
  seed: number;
  /** Weight of the LR guidance term. */
  lambda: number;
  /** Its penalty; checkpoints written before this option existed used l1. */
  guide?: 'l1' | 'l2';
  /** Share of steps without codec (8-bit rounding only). */
  losslessProb: number;
  qualityMin: number;
  qualityMax: number;
  valEvery: number;
  checkpointEvery: number;
  arch: PairArch;
  adam: AdamConfig;
  /**
   * Train U alone against the frozen D: D runs forward only (no backward, no update), which makes
   * a step several times cheaper. The way to give a tiny U many more steps once D has settled.
   */
  freezeDown?: boolean;
  /**
   * '420': train through the 4:2:0 round trip every streamed frame takes (addChroma420), and
   * validate through it too. 'mix': a share (`mix420`) of the samples of every batch, drawn per
   * sample, through it and the rest as RGB, so that one pair serves streamed frames and lossless
   * RGB stills. Absent (runs before the option existed): '444', RGB as is.
   */
  chroma?: ChromaMode;
  /** Under chroma 'mix': the share of samples taken through 4:2:0 (absent: MIX_420_PROB). */
  mix420?: number;
  /**
   * Under chroma 'mix': the RGB samples skip the codec. They stand for lossless stills; every
   * coded frame is 4:2:0, so RGB through the codec is a case no viewer sees.
   */
  mixRgbLossless?: boolean;
  /**
   * 'x264': the real codec in the forward pass (./x264.ts), one CRF per step drawn uniformly from
   * `crf`; 'proxy' or absent: the DCT-quantization proxy at `qualityMin`-`qualityMax`.
   */
  codec?: 'proxy' | 'x264';
  crf?: [number, number];
  /** Weight of the rate proxy (bits per luma AC coefficient, addRateProxy); absent: 0. */
  rate?: number;
  /**
   * A still stage: only D's hiding branch and the still head train (arch.hideChannels,
   * arch.stillHead), on lossless RGB samples; D's own weights and U stay as they came from
   * `init`, and what 4:2:0 keeps of the LR does not change (see PairArch.hideChannels).
   */
  stillStage?: boolean;
  /** Share of crops whose colour is boosted (saturateBatch); absent or 0: none, and no draws. */
  saturate?: number;
  /**
   * The run whose weights this one started from (`hcd train --init`): a checkpoint with its own
   * config, or a pair folder with the lineage its manifest recorded.
   */
  init?: { checkpoint: string; step: number; config?: TrainConfig; lineage?: TrainStage[] };
}

/** One stage of a pair's training history, oldest first (see `lineage`). */
export interface TrainStage {
  steps: number;
  scheduledSteps: number;
  seed: number;
  lr: number;
  batch: number;
  crop: number;
  lambda: number;
  losslessProb: number;
  jpegQuality: [number, number];
  upHidden: number;
  stillHidden?: number;
  freezeDown: boolean;
  chroma: ChromaMode;
  mix420?: number;
  mixRgbLossless?: boolean;
  stillHead?: boolean;
  stillStage?: boolean;
  hideChannels?: number;
  saturate?: number;
  codec: 'proxy' | 'x264';
  crf?: [number, number];
  rate?: number;
}

/** The chroma 'mix' settings of a run, as its lineage and manifest record them; none otherwise. */
export function mixSettings(cfg: TrainConfig): { mix420?: number; mixRgbLossless?: true } {
  if (cfg.chroma !== 'mix') return {};
  return { mix420: cfg.mix420 ?? MIX_420_PROB, ...(cfg.mixRgbLossless ? { mixRgbLossless: true as const } : {}) };
}

/** Every stage that led to a run at `stepsDone`, following `init` back to the first from-scratch run. */
export function lineage(cfg: TrainConfig, stepsDone: number): TrainStage[] {
  const stage: TrainStage = {
    steps: stepsDone,
    scheduledSteps: cfg.steps,
    seed: cfg.seed,
    lr: cfg.adam.lr,
    batch: cfg.batch,
    crop: cfg.crop,
    lambda: cfg.lambda,
    losslessProb: cfg.losslessProb,
    jpegQuality: [cfg.qualityMin, cfg.qualityMax],
    upHidden: cfg.arch.upHidden,
    ...(cfg.arch.stillHidden !== undefined ? { stillHidden: cfg.arch.stillHidden } : {}),
    freezeDown: cfg.freezeDown ?? false,
    chroma: cfg.chroma ?? '444',
    ...mixSettings(cfg),
    ...(cfg.arch.stillHead ? { stillHead: true } : {}),
    ...(cfg.stillStage ? { stillStage: true, hideChannels: cfg.arch.hideChannels } : {}),
    ...(cfg.saturate ? { saturate: cfg.saturate } : {}),
    codec: cfg.codec ?? 'proxy',
    ...(cfg.codec === 'x264' && cfg.crf ? { crf: cfg.crf } : {}),
    ...(cfg.rate ? { rate: cfg.rate } : {}),
  };
  if (!cfg.init) return [stage];
  const before = cfg.init.lineage ?? (cfg.init.config ? lineage(cfg.init.config, cfg.init.step) : []);
  return [...before, stage];
}

/** Whether `name` is updated under `cfg`. */
export function isTrainable(cfg: TrainConfig, name: string): boolean {
  if (cfg.stillStage) return name.startsWith('hide.') || name.startsWith('still.');
  return !(cfg.freezeDown && (name.startsWith('down.') || name.startsWith('hide.')));
}

export function defaultConfig(scale: number, arch: PairArch): TrainConfig {
  return {
    scale,
    steps: 2000,
    batch: 16,
    crop: 64,
    seed: 1,
    lambda: 8,
    guide: 'l2',
    chroma: '420',
    losslessProb: 0.3,
    qualityMin: 30,
    qualityMax: 95,
    valEvery: 100,
    checkpointEvery: 100,
    arch,
    adam: DEFAULT_ADAM,
  };
}

export interface StepInfo {
  step: number;
  of: number;
  loss: number;
  psnr: number;
  lrGuide: number;
  /** The rate proxy's bits per luma AC coefficient (runs with a rate weight). */
  rate?: number;
  lr: number;
  msPerStep: number;
}

export interface TrainHooks {
  onStep?: (s: StepInfo) => void;
  onValidate?: (v: ValRecord) => void;
  /** Stop (as a kill would) once this many steps are done; the last checkpoint stays. */
  stopAfter?: number;
}

export function initialState(cfg: TrainConfig): TrainState {
  const rng = new Rng(cfg.seed);
  const params = initPair(cfg.arch, rng);
  const slots = new Map([...params].map(([k, v]) => [k, newSlot(v.data.length)]));
  return { step: 0, rng: rng.state(), params, slots, history: [] };
}

/**
 * Copies every tensor of `src` whose name and shape match into `dst`; returns the names copied.
 * A still head that `src` lacks starts as a copy of its U ('still.X' from 'up.X'). A hidden conv of
 * the still head that neither has (a deeper still head) starts as the identity with a linear
 * PReLU, so the copied head computes what it did and the new layer learns from there.
 */
export function initFrom(dst: TrainState, src: Pick<TrainState, 'params'>): string[] {
  const copied: string[] = [];
  for (const [name, p] of dst.params) {
    const q = src.params.get(name) ?? (name.startsWith('still.') ? src.params.get(`up.${name.slice(6)}`) : undefined);
    if (!q || q.dims.join('x') !== p.dims.join('x')) continue;
    p.data.set(q.data);
    copied.push(name);
  }
  const deeper = /^still\.c([1-9]\d*)\.w$/;
  for (const [name, p] of dst.params) {
    const k = deeper.exec(name);
    const [cout, cin, kh, kw] = p.dims;
    if (!k || copied.includes(name) || cout !== cin || kh !== 3 || kw !== 3 || !copied.some((n) => n.startsWith('still.'))) continue;
    p.data.fill(0);
    for (let c = 0; c < cout; c++) p.data[c * cin * 9 + c * 9 + 4] = 1;
    dst.params.get(`still.c${k[1]}.b`)?.data.fill(0);
    dst.params.get(`still.c${k[1]}.a`)?.data.fill(1);
  }
  return copied;
}

/** Codec quantizer steps for each sample of a batch: lossless or a random JPEG quality. */
export function sampleSteps(cfg: TrainConfig, rng: Rng): Float32Array {
  const out = new Float32Array(cfg.batch * 192);
  for (let b = 0; b < cfg.batch; b++) {
    const lossless = rng.next() < cfg.losslessProb;
    const q = cfg.qualityMin + rng.next() * (cfg.qualityMax - cfg.qualityMin);
    out.set(lossless ? losslessSteps() : jpegSteps(q), b * 192);
  }
  return out;
}

/**
 * Which samples of a chroma 'mix' batch go through 4:2:0 (1) and which stay RGB (0). With
 * mixRgbLossless, the RGB samples' quantizer steps in `steps` become lossless. No draws at a
 * share of 0 or 1, so those runs take the batches of a plain 444 or 420 run.
 */
export function sampleChromaMask(cfg: TrainConfig, rng: Rng, steps?: Float32Array): Float32Array {
  const p420 = cfg.mix420 ?? MIX_420_PROB;
  const mask = Float32Array.from({ length: cfg.batch }, () => (p420 >= 1 ? 1 : p420 <= 0 ? 0 : rng.next() < p420 ? 1 : 0));
  if (cfg.mixRgbLossless && steps) mask.forEach((m, b) => m === 0 && steps.set(losslessSteps(), b * 192));
  return mask;
}

/**
 * Lossless validation: PSNR of U(round(D(x))) vs x and of D(x) vs bicubic-down(x), RGB 0-1; with
 * chroma420, also of U(round(S(round(D(x))))) vs x, S the 4:2:0 round trip (as streamed). A pair
 * with a still head scores the lossless RGB LR with that head, as `hcd image` uses it.
 */
export async function validate(params: Params, arch: PairArch, crops: Float32Array[], p: number, threads?: number, chroma420 = false): Promise<{ psnr: number; lrPsnr: number; psnr420?: number }> {
  const g = new GraphBuilder('hcd_val');
  const x = g.input('x', ['N', 3, p, p]);
  const lr = addDownscaler(g, params, arch, x);
  const zero = g.constF([0], [], 'zero');
  const one = g.constF([1], [], 'one');
  const c255 = g.constF([255], [], 'c255');
  const q8 = (t: string) => g.op('Div', [g.op('Round', [g.op('Mul', [g.op('Clip', [t, zero, one]), c255])]), c255]);
  const up = q8(addUpscaler(g, params, arch, q8(lr), undefined, arch.stillHead ? 'still' : 'up'));
  const mse = (a: string, b: string, out: string) => {
    const d = g.op('Sub', [a, b]);
    return g.op('ReduceMean', [g.op('Mul', [d, d])], { keepdims: attr.int(0) }, out);
  };
  g.output(mse(up, x, 'hr_mse'), []);
  if (chroma420) g.output(mse(q8(addUpscaler(g, params, arch, q8(addChroma420(g, q8(lr))))), x, 'hr420_mse'), []);
  g.output(mse(lr, addBicubicDown(g, arch.scale, x), 'lr_mse'), []);
  const sess = await createSession(g.toModel(), { threads });
  let hr = 0;
  let lrm = 0;
  let hr420 = 0;
  const chunk = 8;
  for (let i = 0; i < crops.length; i += chunk) {
    const part = crops.slice(i, i + chunk);
    const buf = new Float32Array(part.length * 3 * p * p);
    part.forEach((c, k) => buf.set(c, k * 3 * p * p));
    const r = await sess.run({ x: new ort.Tensor('float32', buf, [part.length, 3, p, p]) });
    hr += (r.hr_mse.data as Float32Array)[0] * part.length;
    lrm += (r.lr_mse.data as Float32Array)[0] * part.length;
    if (chroma420) hr420 += (r.hr420_mse.data as Float32Array)[0] * part.length;
  }
  await sess.release();
  const toPsnr = (m: number) => 10 * Math.log10(1 / Math.max(m / crops.length, 1e-12));
  return { psnr: toPsnr(hr), lrPsnr: toPsnr(lrm), ...(chroma420 ? { psnr420: toPsnr(hr420) } : {}) };
}

/**
 * Runs (or continues) training from `state` until cfg.steps, checkpointing to `checkpoint`
 * every cfg.checkpointEvery steps and at the end. Mutates and returns `state`.
 */
export async function train(
  cfg: TrainConfig,
  data: { train: TrainImage[]; valCrops: Float32Array[]; valCrop: number },
  state: TrainState,
  opts: { checkpoint?: string; threads?: number; hooks?: TrainHooks },
): Promise<TrainState> {
  const hooks = opts.hooks ?? {};
  const trainable = (n: string) => isTrainable(cfg, n);
  const x264 = cfg.codec === 'x264';
  const model = buildTrainingModel(state.params, cfg.arch, cfg.lambda, {
    guide: cfg.guide ?? 'l1',
    trainable,
    chroma: cfg.chroma,
    codec: cfg.codec,
    rateWeight: cfg.rate,
    ...(cfg.stillStage ? { head: 'still' as const } : {}),
  });
  const sess = await createSession(model, { threads: opts.threads });
  const names = [...state.params.keys()].filter(trainable);
  const weights = Object.fromEntries(names.map((n) => {
    const p = state.params.get(n);
    if (!p) throw new Error(n);
    return [n, new ort.Tensor('float32', p.data, p.dims)];
  }));
  const feedDown = !cfg.freezeDown;
  const lrSess = x264 ? await createSession(buildLrModel(state.params, cfg.arch, { chroma: cfg.chroma, feedDown }), { threads: opts.threads }) : undefined;
  const downWeights = Object.fromEntries(Object.entries(weights).filter(([n]) => n.startsWith('down.')));
  const rng = new Rng(state.rng);
  const save = async () => {
    state.rng = rng.state();
    if (opts.checkpoint) await saveCheckpoint(opts.checkpoint, state, cfg);
  };
  const doValidate = async () => {
    // a still stage reports the streamed path too, which it must leave as it was
    const v = await validate(state.params, cfg.arch, data.valCrops, data.valCrop, opts.threads, (cfg.chroma ?? '444') !== '444' || !!cfg.stillStage);
    const rec: ValRecord = { step: state.step, psnr: round3(v.psnr), lrPsnr: round3(v.lrPsnr), ...(v.psnr420 !== undefined ? { psnr420: round3(v.psnr420) } : {}) };
    if (x264) {
      const crf = valCrf(cfg);
      rec.psnrX264 = round3(await validateX264(state.params, cfg.arch, data.valCrops, data.valCrop, crf, opts.threads));
      rec.x264Crf = crf;
    }
    state.history.push(rec);
    hooks.onValidate?.(rec);
  };
  while (state.step < cfg.steps) {
    if (hooks.stopAfter !== undefined && state.step >= hooks.stopAfter) break;
    const t0 = performance.now();
    const x = sampleBatch(data.train, cfg.batch, cfg.crop, rng);
    if (cfg.saturate) saturateBatch(x, cfg.batch, cfg.crop, cfg.saturate, rng);
    const xt = new ort.Tensor('float32', x, [cfg.batch, 3, cfg.crop, cfg.crop]);
    let codecFeed: Record<string, ort.Tensor>;
    if (lrSess) {
      const h = cfg.crop / cfg.scale;
      const lossless = Array.from({ length: cfg.batch }, () => rng.next() < cfg.losslessProb);
      const [lo, hi] = cfg.crf ?? DEFAULT_CRF;
      const crf = lo + rng.int(hi - lo + 1);
      const o = await lrSess.run({ x: xt, ...(feedDown ? downWeights : {}) });
      const res = await x264Residual(o.q.data as Float32Array, o.sub.data as Float32Array, cfg.batch, h, h, crf, lossless);
      codecFeed = { codec_res: new ort.Tensor('float32', res, [cfg.batch, 3, h, h]) };
    } else {
      codecFeed = { steps: new ort.Tensor('float32', sampleSteps(cfg, rng), [cfg.batch, 192, 1, 1]) };
    }
    if (cfg.chroma === 'mix') {
      const mask = sampleChromaMask(cfg, rng, codecFeed.steps?.data as Float32Array | undefined);
      codecFeed.chroma_mask = new ort.Tensor('float32', mask, [cfg.batch, 1, 1, 1]);
    }
    const r = await sess.run({ x: xt, ...codecFeed, ...weights });
    const lr = learningRate(cfg.adam, state.step, cfg.steps);
    for (const n of names) {
      const p = state.params.get(n);
      const slot = state.slots.get(n);
      if (!p || !slot) throw new Error(n);
      const g = r[`grad_${n}`].data as Float32Array;
      // no decay on biases and PReLU slopes; the bicubic residual filters have many taps whose
      // sum is the filter's gain, and Adam moves every tap by ~lr, so they get a much smaller rate
      const res = n.endsWith('.res.w');
      adamStep(p.data, g, slot, cfg.adam, res ? lr * RES_LR_SCALE : lr, state.step + 1, n.endsWith('.w') && !res);
    }
    state.step++;
    const loss = (r.loss.data as Float32Array)[0];
    const mse = (r.rec_mse.data as Float32Array)[0];
    if (!Number.isFinite(loss)) throw new Error(`training diverged at step ${state.step} (loss ${loss})`);
    hooks.onStep?.({
      step: state.step,
      of: cfg.steps,
      loss,
      psnr: 10 * Math.log10(1 / Math.max(mse, 1e-12)),
      lrGuide: (r.lr_guide.data as Float32Array)[0],
      ...(r.rate ? { rate: (r.rate.data as Float32Array)[0] } : {}),
      lr,
      msPerStep: performance.now() - t0,
    });
    if (cfg.valEvery > 0 && state.step % cfg.valEvery === 0) await doValidate();
    if (state.step % cfg.checkpointEvery === 0 || state.step === cfg.steps) await save();
  }
  await sess.release();
  await lrSess?.release();
  state.rng = rng.state();
  return state;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
