/**
 * `hcd compare OUTDIR` where OUTDIR is what `hcd encode` wrote: the comparison runs on the
 * encode's own input, duration and pair, and its report goes to OUTDIR/compare/, where
 * `hcd serve` and the demo page look for it. Only read here; nothing in OUTDIR is touched.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HcdError } from '../shared/errors.js';
import { JOB_FILE, STATE_FILE, type EncodeState, type Job } from '../encoder/job/state.js';
import { UPSCALER_MANIFEST } from '../encoder/job/upscaler.js';
import { compareLadder } from '../config.js';

/** The report folder inside an encode output (src/server/outputs.ts looks here). */
export const REPORT_DIR = 'compare';

export interface EncodeFolder {
  /** The encode output, absolute. */
  dir: string;
  /** The video the encode read (absolute, as job.json recorded it). */
  input: string;
  /** The encode's --seconds; undefined for the whole input. */
  seconds?: number;
  /** The pair id the encode used. */
  model: string;
  /** The pair's scale, from the upscaler manifest the encode wrote. */
  scale: number;
  /** The encode's HCD iterations (HR, LR); undefined when it used the plain downscaler. */
  hcdIters?: [number, number];
  codecAware: boolean;
  /** The encode's closed-loop settings, when codec-aware. */
  codecLoop?: { passes: number; step: number; radius: number; rateSlope?: number };
  /** Where the report goes by default: DIR/compare. */
  reportDir: string;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const isCount = (n: unknown): boolean => Number.isSafeInteger(n) && (n as number) >= 0;
const isNumber = (n: unknown, min: number): n is number => typeof n === 'number' && Number.isFinite(n) && n >= min;

/** The closed loop of a codec-aware job: what --codec-loop accepts. */
function isLoop(l: unknown): boolean {
  return isObject(l) && isCount(l.passes) && isNumber(l.step, 0) && l.step > 0 && isNumber(l.radius, 0) && (l.rateSlope === undefined || isNumber(l.rateSlope, 0));
}

/** The options compare takes over from the encode. */
function isOptions(o: unknown): boolean {
  return (
    isObject(o) &&
    (o.seconds === null || (isNumber(o.seconds, 0) && o.seconds > 0)) &&
    (o.hcdIters === null || (Array.isArray(o.hcdIters) && o.hcdIters.length === 2 && o.hcdIters.every(isCount))) &&
    (o.codecAware !== true || isLoop(o.codecLoop))
  );
}

/** job.json as prepareOutdir wrote it, checked only as far as compare relies on it. */
function readJob(dir: string): Job {
  const path = join(dir, JOB_FILE);
  const job = readJson(path);
  const ok = isObject(job) && job.version === 1 && isObject(job.input) && typeof job.input.path === 'string' && typeof job.model === 'string' && job.model !== '' && isOptions(job.options);
  if (!ok) throw new HcdError(`${path} is not a job file that hcd encode wrote (unreadable, or another version)`);
  return job as unknown as Job;
}

/** True when `path` is a folder: then it can only be an encode output, never a video. */
export function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Reads an `hcd encode` output folder. Refuses, each with one line, a folder that is not one,
 * an encode that has not finished (compare would measure a different clip than the one
 * served), and an input that is gone or has changed since the encode.
 */
export function resolveEncodeFolder(folder: string): EncodeFolder {
  const dir = resolve(folder);
  if (!existsSync(join(dir, JOB_FILE))) {
    if (existsSync(join(dir, 'master.m3u8'))) throw new HcdError(`${folder} has a master.m3u8 but no ${JOB_FILE}: it was not made by hcd encode, so its input is unknown; compare the video itself with hcd compare VIDEO -o DIR`);
    throw new HcdError(`${folder} is a folder but not an hcd encode output (no ${JOB_FILE}); give a video file, or a folder hcd encode wrote`);
  }
  const job = readJob(dir);
  const state = readJson(join(dir, STATE_FILE)) as Partial<EncodeState> | undefined;
  if (!isObject(state) || state.complete !== true || !existsSync(join(dir, 'master.m3u8'))) {
    const done = Array.isArray(state?.chunks) ? state.chunks.length : 0;
    throw new HcdError(`the encode in ${folder} is not finished (${done} segment${done === 1 ? '' : 's'} done); finish it first (run its hcd encode command again with --resume)`);
  }
  const manifest = readJson(join(dir, UPSCALER_MANIFEST));
  const scale = isObject(manifest) ? manifest.scale : undefined;
  if (typeof scale !== 'number' || !Number.isInteger(scale) || scale < 2 || scale > 8) throw new HcdError(`${join(folder, UPSCALER_MANIFEST)} is missing or has no valid scale: the encode output is incomplete`);
  const input = job.input.path;
  let st;
  try {
    st = statSync(input);
  } catch {
    throw new HcdError(`the input recorded in ${join(folder, JOB_FILE)} no longer exists: ${input}`);
  }
  if (!st.isFile()) throw new HcdError(`the input recorded in ${join(folder, JOB_FILE)} is not a file any more: ${input}`);
  // the same test --resume applies: a different file under the old name is not what was encoded
  if (st.size !== job.input.size || Math.round(st.mtimeMs) !== job.input.mtimeMs) {
    throw new HcdError(`${input} has changed since ${folder} was encoded (size or modification time differ from ${JOB_FILE}); encode it again, or compare the video itself with hcd compare VIDEO -o DIR`);
  }
  const iters = job.options.hcdIters;
  return {
    dir,
    input,
    seconds: job.options.seconds ?? undefined,
    model: job.model,
    scale,
    hcdIters: iters && (iters[0] > 0 || iters[1] > 0) ? [iters[0], iters[1]] : undefined,
    codecAware: job.options.codecAware === true,
    codecLoop: job.options.codecAware === true ? job.options.codecLoop : undefined,
    reportDir: join(dir, REPORT_DIR),
  };
}

/**
 * The pipelines that describe the encode: the conventional ladder a per-title encoder chooses
 * from (source, 3/4, 1/2, 1/4), plus C (the pair's plain downscaler), D (HCD with the encode's
 * iterations) or E (codec-aware, with D or C beside it as its reference).
 */
export function encodePipelines(f: EncodeFolder): string[] {
  const learned = f.codecAware ? [f.hcdIters ? 'D' : 'C', 'E'] : [f.hcdIters ? 'D' : 'C'];
  return [...compareLadder(f.scale), ...learned];
}
