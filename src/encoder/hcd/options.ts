import { cpus } from 'node:os';
import { HcdError } from '../../shared/errors.js';
import type { StepRule, StepSchedule } from './pgd.js';

/** HCD iterations of the HR stage and of the LR stage: the one shape from the flag to PGD. */
export type HcdIters = [hr: number, lr: number];

/** 0,0 means no HCD: the pair's plain downscaler. */
export const hcdActive = (iters: HcdIters | undefined): iters is HcdIters => !!iters && (iters[0] > 0 || iters[1] > 0);

/**
 * What video frames get unless told otherwise (bench/encode-settings.ts, docs/encoder.md). With
 * the video step (VIDEO_HCD_OPTIONS: 40/255, one lane) one HR and two LR iterations keep about
 * 90 % of the per-frame gain of full 15+15 HCD at about a sixth of its cost. The HR stage runs
 * both networks and costs most; LR iterations only run the small upscaler.
 */
export const VIDEO_HCD_ITERS: HcdIters = [1, 2];

/** Stills (`hcd image`, `hcd eval`): the paper's 15 + 15 with the official step. */
export const STILL_HCD_ITERS: HcdIters = [15, 15];

export interface HcdOptions {
  iters: HcdIters;
  /** Ball radius per 128x128 LR tile (L2 rules), or per value (linf). */
  eps: number;
  /** Step size, per 128x128 LR tile for 'l2'; per value for 'linf' and 'adam'. */
  alpha: number;
  rule: StepRule;
  seed: number;
  /** LR tile side in patch mode; 0 optimizes the whole image as one tile. */
  tile: number;
  /** LR pixels of context around each tile. */
  halo: number;
  /** Lowest PSNR of the collaborative LR against the plain LR; the change is scaled back to meet it. */
  minLrPsnr?: number;
  /** Tiles optimized side by side, each lane with its own sessions. */
  lanes: number;
  /** Intra-op threads per lane; by default the cores split between the lanes. */
  threads?: number;
  /** Step schedule: 'constant' (official, the default) or 'cosine' (annealed towards 0). */
  schedule?: StepSchedule;
  /** Keep each tile's lowest-loss iterate instead of the last (default false, as the official code). */
  keepBest?: boolean;
  /**
   * '420': optimize through the 4:2:0 round trip every streamed frame takes (see buildHcdGraphs);
   * '444' (the default): on RGB as is, as the paper does for images.
   */
  chroma?: '420' | '444';
}

/** The official configuration: 15 + 15 iterations, L2 ball 0.3, step 20/255, 128x128 LR windows. */
export const L2_DEFAULTS: HcdOptions = {
  iters: STILL_HCD_ITERS,
  eps: 0.3,
  alpha: 20 / 255,
  rule: 'l2',
  seed: 0,
  tile: 128,
  halo: 8,
  // two lanes of half the cores each: measured faster than one lane of every core for RDN
  // (bench/hcd.ts, 1.35x on the 2-core box); results do not depend on it
  lanes: Math.min(2, cpus().length),
};

/**
 * The video preset (`hcd encode`, `hcd compare`): on a few cores one lane with every thread beats
 * tiles in parallel lanes, and a step of 40/255 (twice the official one) reaches the official
 * eps-0.3 ball within 1-2 iterations. Every streamed frame is 4:2:0, so HCD optimizes through
 * that conversion (chroma '420', see buildHcdGraphs): on RGB, most of its gain is colour detail
 * that the conversion averages away.
 */
export const VIDEO_HCD_OPTIONS: Partial<HcdOptions> = { lanes: 1, alpha: 40 / 255, chroma: '420' };

/** Codec-aware HCD's closed loop (codec-loop.ts), per chunk and LR rendition. */
export interface CodecLoopOptions {
  /** Gradient steps; the loop runs passes + 1 roundtrips (the last one scores the last step). */
  passes: number;
  /** RMS length of one step per value, in 8-bit levels. */
  step: number;
  /**
   * RMS bound on the change against the starting LR per value, in 8-bit levels: the LR is also
   * what clients without the upscaler show. 4 levels keep it at least 36 dB from the start (one
   * step of 2 levels, the default, at least 42 dB).
   */
  radius: number;
  /**
   * dB of PSNR one doubling of the bitrate is worth, to weigh a pass's bits against its quality
   * when choosing the pass to keep: score = PSNR - rateSlope * log2(bytes / bytes of pass 0).
   * A step adds detail, and even under rate control x264 spends a few percent more on it; this
   * keeps a pass only when its gain beats what those bits would buy anyway. 0 ignores the bits.
   * x264 curves of the x2 renditions measured here rise 0.6-1 dB per doubling; 1 is the cautious end.
   */
  rateSlope: number;
}

export const CODEC_LOOP_DEFAULTS: CodecLoopOptions = { passes: 1, step: 2, radius: 4, rateSlope: 1 };

/** Step rules other than the official L2 need their own scale of eps and alpha. */
const RULE_DEFAULTS: Record<StepRule, Pick<HcdOptions, 'eps' | 'alpha'>> = {
  l2: { eps: 0.3, alpha: 20 / 255 },
  linf: { eps: 2 / 255, alpha: 0.5 / 255 },
  adam: { eps: 0.3, alpha: 0.5 / 255 },
};

/** Full options from a partial set, with the rule's own eps/alpha defaults; checks ranges. */
export function resolveOptions(p: Partial<HcdOptions> = {}): HcdOptions {
  const rule = p.rule ?? 'l2';
  if (!['l2', 'linf', 'adam'].includes(rule)) throw new HcdError(`unknown step rule '${rule}' (use l2, linf or adam)`);
  const o: HcdOptions = { ...L2_DEFAULTS, ...RULE_DEFAULTS[rule], ...stripUndefined(p), rule };
  const int = (name: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new HcdError(`${name} must be an integer >= ${min} (got ${v})`);
  };
  if (!Array.isArray(o.iters) || o.iters.length !== 2 || o.iters.some((n) => !Number.isInteger(n) || n < 0)) throw new HcdError(`hcd-iters must be two integers >= 0 as HR,LR (got ${String(o.iters)})`);
  int('seed', o.seed, 0);
  int('tile', o.tile, 0);
  int('halo', o.halo, 0);
  int('lanes', o.lanes, 1);
  if (o.tile > 0 && o.tile < 16) throw new HcdError(`tile must be 0 (whole image) or at least 16 LR pixels (got ${o.tile})`);
  if (!(o.eps > 0) || !Number.isFinite(o.eps)) throw new HcdError(`eps must be a positive number (got ${o.eps})`);
  if (!(o.alpha > 0) || !Number.isFinite(o.alpha)) throw new HcdError(`alpha must be a positive number (got ${o.alpha})`);
  if (o.minLrPsnr !== undefined && !(o.minLrPsnr > 0)) throw new HcdError(`min-lr-psnr must be a positive number of dB (got ${o.minLrPsnr})`);
  if (o.threads !== undefined) int('threads', o.threads, 1);
  if (o.chroma !== undefined && !['420', '444'].includes(o.chroma)) throw new HcdError(`chroma must be 420 or 444 (got ${o.chroma})`);
  if (o.schedule !== undefined && !['constant', 'cosine'].includes(o.schedule)) throw new HcdError(`unknown step schedule '${o.schedule}' (use constant or cosine)`);
  return o;
}

function stripUndefined<T extends object>(p: T): Partial<T> {
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as Partial<T>;
}
