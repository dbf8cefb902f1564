/**
 * Every flag value the command line parses, once: each turns a string into a config field or
 * throws one HcdError line that names the flag. Defaults are not here: src/config.ts has them.
 */
import { HcdError } from '../shared/errors.js';
import { MAX_BITRATE, MIN_BITRATE, type AudioBitrates, type ConventionalRendition } from '../config.js';
import type { CodecLoopOptions, HcdIters } from '../encoder/hcd/options.js';
import type { LadderMetric, LadderOptions } from '../encoder/ladder/options.js';

/**
 * A number written in decimal ("12", "-0.5", "1e3"), else NaN. Number() alone also takes "",
 * " " (both 0), "0x10" and "Infinity", none of which anyone means as a flag value.
 */
function decimal(s: string): number {
  const t = s.trim();
  return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t) ? Number(t) : NaN;
}

/** A whole number written as digits ("12", "-3"), else NaN. */
function integer(s: string): number {
  const t = s.trim();
  return /^[+-]?\d+$/.test(t) ? Number(t) : NaN;
}

const isCount = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;
const isCrf = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 51;

/** "150k", "1.5M", "800000" -> bits/s. */
export function parseBitrate(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(s.trim());
  if (!m) throw new HcdError(`bad bitrate '${s}': use e.g. 150k, 1.5M or 800000`);
  const v = Math.round(Number(m[1]) * (m[2].toLowerCase() === 'k' ? 1e3 : m[2].toLowerCase() === 'm' ? 1e6 : 1));
  if (!(v >= MIN_BITRATE)) throw new HcdError(`bitrate '${s}' is too low (at least ${formatBitrates([MIN_BITRATE])})`);
  if (!(v <= MAX_BITRATE)) throw new HcdError(`bitrate '${s}' is too high (at most ${formatBitrates([MAX_BITRATE])})`);
  return v;
}

/** A comma-separated list of bitrates; '' for none. */
export function parseBitrates(s: string): number[] {
  return s.trim() === '' ? [] : s.split(',').map(parseBitrate);
}

/** `--audio-bitrates LOW,NORMAL`: exactly two bitrates. */
export function parseAudioBitrates(s: string): AudioBitrates {
  const parts = parseBitrates(s);
  if (parts.length !== 2) throw new HcdError(`--audio-bitrates wants two bitrates as LOW,NORMAL (e.g. 20k,64k), got '${s}'`);
  return [parts[0], parts[1]];
}

/** Bits/s back to the flag's spelling, for help texts: 150000 -> "150k". */
export function formatBitrates(bs: readonly number[]): string {
  return bs.map((b) => (b % 1_000_000 === 0 ? `${b / 1_000_000}M` : b % 1000 === 0 ? `${b / 1000}k` : String(b))).join(',');
}

/** `--hcd-iters HR,LR`, the same on every command that runs HCD. */
export function parseIters(v: string): HcdIters {
  const parts = v.split(',').map(integer);
  if (parts.length !== 2 || !parts.every(isCount)) throw new HcdError(`--hcd-iters wants two integers >= 0 as HR,LR, got '${v}'`);
  return [parts[0], parts[1]];
}

/**
 * `--codec-loop PASSES,STEP,RADIUS[,SLOPE]`: closed-loop passes; step and radius in RMS 8-bit
 * levels; SLOPE the dB one doubling of bitrate is worth when a pass is chosen (0: ignore bits).
 * Without SLOPE the default slope applies.
 */
export function parseCodecLoop(v: string): Partial<CodecLoopOptions> {
  const parts = v.split(',').map((p, i) => (i === 0 ? integer(p) : decimal(p)));
  const [passes, step, radius, rateSlope] = parts;
  const finite = parts.every(Number.isFinite);
  if (parts.length < 3 || parts.length > 4 || !finite || !isCount(passes) || !(step > 0) || !(radius >= 0) || !(rateSlope === undefined || rateSlope >= 0)) {
    throw new HcdError(`--codec-loop wants PASSES,STEP,RADIUS[,SLOPE] (an integer >= 0, then step > 0 and radius >= 0 in 8-bit levels, then dB per doubling >= 0), got '${v}'`);
  }
  return rateSlope === undefined ? { passes, step, radius } : { passes, step, radius, rateSlope };
}

export function formatCodecLoop(o: CodecLoopOptions): string {
  return `${o.passes},${o.step},${o.radius},${o.rateSlope}`;
}

/** The non-empty parts of a comma-separated list of CRFs, as numbers. */
const crfList = (v: string): number[] => v.split(',').map((s) => s.trim()).filter(Boolean).map(integer);

/** `--crf`: at least two distinct integers 0-51. */
export function parseCrfs(v: string): number[] {
  const crfs = crfList(v);
  if (crfs.length < 2 || !crfs.every(isCrf)) throw new HcdError(`--crf wants at least two integers 0-51 separated by commas, got '${v}'`);
  if (new Set(crfs).size !== crfs.length) throw new HcdError(`--crf has a repeated value: '${v}'`);
  return crfs;
}

/** `--hull-crf`: CRFs 0-51, possibly none ('' or 'none'). */
export function parseHullCrfs(v: string): number[] {
  if (v.trim() === '' || v.trim() === 'none') return [];
  const crfs = crfList(v);
  if (!crfs.every(isCrf)) throw new HcdError(`--hull-crf wants integers 0-51 separated by commas (or 'none'), got '${v}'`);
  return crfs;
}

/** A number flag, for commander's parse argument: `--name` must be a finite number. */
export const num = (name: string) => (v: string): number => {
  const n = decimal(v);
  if (!Number.isFinite(n)) throw new HcdError(`--${name} must be a number (got '${v}')`);
  return n;
};

export function positive(name: string, v: string, whole = false): number {
  const n = decimal(v);
  if (!Number.isFinite(n) || n <= 0 || (whole && !Number.isSafeInteger(n))) throw new HcdError(`--${name} must be a positive ${whole ? 'integer' : 'number'}, got '${v}'`);
  return n;
}

export function nonNegative(name: string, v: string): number {
  const n = decimal(v);
  if (!Number.isFinite(n) || n < 0) throw new HcdError(`--${name} must be a number >= 0, got '${v}'`);
  return n;
}

/** The per-title ladder's flags, as given (undefined where none is). */
export interface LadderFlags {
  ladder?: string;
  bitrates?: string;
  rungs?: string;
  minKbps?: string;
  maxKbps?: string;
  metric?: string;
  vmafModel?: string;
  /** commander's --no-neural: false when given. */
  neural?: boolean;
}

/** `--metric psnr|vmaf`. */
export function parseMetric(v: string): LadderMetric {
  if (v === 'psnr' || v === 'psnr_y') return 'psnr_y';
  if (v === 'vmaf') return 'vmaf';
  throw new HcdError(`bad --metric '${v}': use psnr or vmaf`);
}

/** `--ladder auto|fixed` and the auto ladder's targets; kb/s flags to bits/s. */
export function parseLadderFlags(f: LadderFlags): { ladder?: 'auto' | 'fixed'; auto?: Partial<LadderOptions> } {
  if (f.ladder !== undefined && f.ladder !== 'auto' && f.ladder !== 'fixed') throw new HcdError(`bad --ladder '${f.ladder}': use auto or fixed`);
  const kbps = (name: string, v: string | undefined) => (v === undefined ? undefined : Math.round(positive(name, v) * 1000));
  const rungs = f.rungs === undefined ? undefined : integer(f.rungs);
  if (rungs !== undefined && !(rungs >= 1)) throw new HcdError(`--rungs must be a whole number >= 1, got '${f.rungs}'`);
  const auto: Partial<LadderOptions> = {
    bitrates: f.bitrates === undefined ? undefined : parseBitrates(f.bitrates),
    rungs,
    minBitrate: kbps('min-kbps', f.minKbps),
    maxBitrate: kbps('max-kbps', f.maxKbps),
    metric: f.metric === undefined ? undefined : parseMetric(f.metric),
    vmafModel: f.vmafModel,
    neural: f.neural === false ? false : undefined,
  };
  if (auto.bitrates !== undefined && (f.rungs !== undefined || f.minKbps !== undefined || f.maxKbps !== undefined)) throw new HcdError('--bitrates names the targets: drop --rungs, --min-kbps and --max-kbps');
  const given = Object.values(auto).some((v) => v !== undefined);
  return { ladder: f.ladder as 'auto' | 'fixed' | undefined, auto: given ? auto : undefined };
}

/** `--conventional-renditions 416x234@145k,640x360@365k`. */
export function parseConventionalRenditions(s: string): ConventionalRendition[] {
  return s.trim() === ''
    ? []
    : s.split(',').map((item) => {
        const m = /^\s*(\d+)x(\d+)@(.+)$/.exec(item);
        if (!m) throw new HcdError(`bad conventional rendition '${item}': use WIDTHxHEIGHT@BITRATE, e.g. 416x234@145k`);
        return { width: Number(m[1]), height: Number(m[2]), bitrate: parseBitrate(m[3]) };
      });
}
