import { accessSync, constants, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HcdError } from '../../shared/errors.js';
import { writeAtomic } from '../media/files.js';
import type { RenditionInfo } from '../media/measure.js';

export interface Rendition {
  /** Folder name and playlist name: lr-150k, src-800k. */
  name: string;
  kind: 'lr' | 'src';
  /** Video bitrate in bits/s. */
  bitrate: number;
}

/** Everything that decides the output bytes. Two runs with equal jobs give equal files. */
export interface Job {
  version: 1;
  input: { path: string; size: number; mtimeMs: number };
  model: string;
  options: {
    seconds: number | null;
    segment: number;
    renditions: Rendition[];
    codecAware: boolean;
    /** The closed loop of codec-aware HCD (absent when not codec-aware). */
    codecLoop?: { passes: number; step: number; radius: number; rateSlope: number };
    hcdIters: [number, number] | null;
    preset: string;
    audioBitrate: number;
  };
}

export interface ChunkRecord {
  index: number;
  startFrame: number;
  frames: number;
  /** Segment size in bytes per rendition name. */
  bytes: Record<string, number>;
}


/** Progress on disk, rewritten atomically after every finished chunk. */
export interface EncodeState {
  chunks: ChunkRecord[];
  info: Record<string, RenditionInfo>;
  /** Set once the input has been read to its end; `totalFrames` is then exact. */
  complete: boolean;
  totalFrames: number;
}

export const JOB_FILE = 'job.json';
export const STATE_FILE = 'state.json';
/** What an encode writes into OUTDIR besides the rendition folders. */
// compare/ is `hcd compare FOLDER`'s report: it describes the old encode, so --force drops it too
const OWN_ENTRIES = [JOB_FILE, STATE_FILE, 'master.m3u8', 'upscaler', '.work', 'compare'];

export function describeInput(path: string): Job['input'] {
  const st = statSync(path);
  return { path: resolve(path), size: st.size, mtimeMs: Math.round(st.mtimeMs) };
}

function sameJob(a: Job, b: Job): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function emptyState(): EncodeState {
  return { chunks: [], info: {}, complete: false, totalFrames: 0 };
}

/**
 * Claims OUTDIR for `job` and returns the state to continue from. Refuses a folder holding a
 * different job (or something that is not ours) unless `force`; refuses to silently redo or
 * extend an existing encode of the same job unless `resume` or `force`.
 */
export function prepareOutdir(dir: string, job: Job, opts: { resume: boolean; force: boolean }): EncodeState {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    writeAtomic(join(dir, '.probe'), '');
    rmSync(join(dir, '.probe'));
  } catch (e) {
    throw new HcdError(`output folder ${dir} is not writable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const entries = readdirSync(dir);
  const oldJob = readJson<Job>(join(dir, JOB_FILE));
  const ours = (name: string) => OWN_ENTRIES.includes(name) || /^(lr|src)-/.test(name);
  if (entries.length > 0 && !opts.force) {
    if (!oldJob) throw new HcdError(`output folder ${dir} is not empty and holds no hcd job; use --force to write into it`);
    if (!sameJob(oldJob, job)) throw new HcdError(`output folder ${dir} holds a different job (${oldJob.input?.path ?? '?'}, model ${oldJob.model}); use --force to replace it`);
    const state = readJson<EncodeState>(join(dir, STATE_FILE)) ?? emptyState();
    if (!opts.resume) {
      throw new HcdError(`output folder ${dir} already holds this job (${state.chunks.length} segments done${state.complete ? ', complete' : ''}); use --resume to continue or --force to start over`);
    }
    return state;
  }
  if (opts.force) for (const name of entries) if (ours(name)) rmSync(join(dir, name), { recursive: true, force: true });
  writeAtomic(join(dir, JOB_FILE), `${JSON.stringify(job, null, 2)}\n`);
  const state = emptyState();
  writeState(dir, state);
  return state;
}

export function writeState(dir: string, state: EncodeState): void {
  writeAtomic(join(dir, STATE_FILE), `${JSON.stringify(state)}\n`);
}
