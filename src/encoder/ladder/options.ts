/**
 * The per-title ladder's options and defaults. The ladder is chosen by measurement: a probe
 * encodes short windows of the title with every candidate rung at several CRFs, and each target
 * bitrate gets the candidate with the best measured quality there (choose.ts).
 */
import { HcdError } from '../../shared/errors.js';

/** The quality a rung is chosen by; both are reported whenever VMAF can be measured. */
export type LadderMetric = 'psnr_y' | 'vmaf';
export const LADDER_METRICS: readonly LadderMetric[] = ['psnr_y', 'vmaf'];

export interface LadderOptions {
  /** Target video bitrates (bits/s); absent: `rungs` targets spaced evenly in log rate from minBitrate to maxBitrate. */
  bitrates?: number[];
  rungs: number;
  minBitrate: number;
  maxBitrate: number;
  metric: LadderMetric;
  /** The pair's LR rung is a candidate; false gives the conventional per-title ladder. */
  neural: boolean;
  /** A libvmaf model file (else HCD_VMAF_MODEL, else libvmaf's built-in model where it has one). */
  vmafModel?: string;
}

export const LADDER_DEFAULTS: LadderOptions = {
  rungs: 5,
  minBitrate: 150_000,
  maxBitrate: 1_600_000,
  metric: 'psnr_y',
  neural: true,
};

/**
 * How the probe samples a title. Windows of one GOP-length each, spread evenly, together
 * `share` of the title and at least `minSeconds`; CRFs wide enough that the smallest candidate
 * reaches the lowest rung and the source the highest.
 */
export const PROBE = {
  windowSeconds: 2,
  /** A title too short for two windows of this is refused: the probe needs two to estimate its error. */
  shortestWindow: 0.5,
  share: 0.1,
  minSeconds: 6,
  crfs: [18, 24, 30, 36, 42, 48],
  /** The pair's LR frames of measured windows kept for a window opened again (a 60 s 640x360 title's take 25 MB). */
  keptLrBytes: 1 << 30,
  /**
   * A neural rung must beat the best conventional one by more than this many jackknife standard
   * errors of its advantage (about 95 %), plus the proxy's measured optimism.
   */
  z: 2,
  /**
   * A lead the probe acts on, the acceptance's tolerance for equal quality: a larger candidate
   * ahead by more than this at a smaller one's highest rate spares the smaller one's lower CRFs
   * (crfs.ts); the neural candidate behind by more than this at every rate of the targets loses
   * the window (stop.ts).
   */
  margin: { psnr_y: 0.1, vmaf: 0.5 },
} as const;

/** Targets in bits/s, rising, and whether the user named them (then each must be reachable). */
export function targetBitrates(o: LadderOptions): { bitrates: number[]; explicit: boolean } {
  if (o.bitrates?.length) return { bitrates: [...new Set(o.bitrates)].sort((a, b) => a - b), explicit: true };
  if (o.rungs === 1) return { bitrates: [o.minBitrate], explicit: false };
  const step = Math.log(o.maxBitrate / o.minBitrate) / (o.rungs - 1);
  // rounded to 1 kb/s: the rung names (lr-271k) read as the rates they are
  const out = Array.from({ length: o.rungs }, (_, i) => Math.round((o.minBitrate * Math.exp(step * i)) / 1000) * 1000);
  return { bitrates: [...new Set(out)], explicit: false };
}

/** One line for the first option that is wrong. */
export function checkLadderOptions(o: LadderOptions, checkBitrate: (b: number) => void): void {
  if (!Number.isSafeInteger(o.rungs) || o.rungs < 1 || o.rungs > 16) throw new HcdError(`--rungs must be a whole number from 1 to 16, got ${o.rungs}`);
  checkBitrate(o.minBitrate);
  checkBitrate(o.maxBitrate);
  if (o.minBitrate > o.maxBitrate) throw new HcdError(`--min-kbps (${o.minBitrate / 1000}) is above --max-kbps (${o.maxBitrate / 1000})`);
  if (o.bitrates !== undefined) {
    if (o.bitrates.length === 0) throw new HcdError('--bitrates names no bitrate');
    o.bitrates.forEach(checkBitrate);
  }
  if (!LADDER_METRICS.includes(o.metric)) throw new HcdError(`bad --metric '${String(o.metric)}': use psnr or vmaf`);
}
