import { cpus } from 'node:os';
import { HcdError } from '../../shared/errors.js';
import type { StepRule, StepSchedule } from './pgd.js';

export interface HcdOptions {
  hrIters: number;
  lrIters: number;
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
  hrIters: 15,
  lrIters: 15,
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
  int('hr-iters', o.hrIters, 0);
  int('lr-iters', o.lrIters, 0);
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
