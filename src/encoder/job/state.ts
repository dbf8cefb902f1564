import { accessSync, constants, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HcdError } from '../../shared/errors.js';
import { makeFolder, writeAtomic } from '../media/files.js';
import type { RenditionInfo } from '../media/measure.js';

export interface Rendition {
  /** Folder name and playlist name: lr-150k, src-800k, down-480x270-300k. */
  name: string;
  /** The pair's LR frame (upscaled by the player), the source size, or a conventional bicubic downscale of it. */
  kind: 'lr' | 'src' | 'down';
  /** The encoded size of a 'down' rung. */
  size?: { width: number; height: number };
  /** Video bitrate in bits/s. */
  bitrate: number;
  /** The name of its audio group's rendition (audio-20k); absent for a silent input. */
  audio?: string;
}

/** One audio group's only rendition: AAC-LC stereo at `bitrate`, cut from one encode of the whole track. */
export interface AudioRendition {
  /** Folder name, playlist name and GROUP-ID: audio-20k. */
  name: string;
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
    gop: number;
    renditions: Rendition[];
    audio: AudioRendition[];
    codecAware: boolean;
    /** The closed loop of codec-aware HCD (absent when not codec-aware). */
    codecLoop?: { passes: number; step: number; radius: number; rateSlope: number };
    hcdIters: [number, number] | null;
    preset: string;
  };
}

export interface ChunkRecord {
  index: number;
  startFrame: number;
  frames: number;
  /** Segment size in bytes per rendition name, video and audio. */
  bytes: Record<string, number>;
  /** Per video rendition, each fragment (GOP) of the segment: [offset, I-frame bytes, frames]. */
  iframes: Record<string, IFrameRecord[]>;
  /** Seconds of AAC in the chunk's audio segments (one count of frames for every group); absent without audio. */
  audio?: number;
}

export type IFrameRecord = [offset: number, length: number, frames: number];


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
const OWN_ENTRIES = [JOB_FILE, STATE_FILE, 'master.m3u8', 'master-plain.m3u8', 'ladder.json', 'ladder.svg', 'upscaler', '.work', 'compare'];
/** The rendition folders: lr-150k, src-800k, down-480x270-300k, audio-20k. */
export const RENDITION_FOLDER = /^(lr|src|down|audio)-/;

export function describeInput(path: string): Job['input'] {
  const st = statSync(path);
  return { path: resolve(path), size: st.size, mtimeMs: Math.round(st.mtimeMs) };
}

function sameJob(a: unknown, b: Job): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Input and model of a job.json that may be anything at all. */
function describeJob(j: unknown): string {
  const text = (v: unknown) => (typeof v === 'string' ? v : '?');
  return isObject(j) ? `${isObject(j.input) ? text(j.input.path) : '?'}, model ${text(j.model)}` : 'unreadable';
}

export function emptyState(): EncodeState {
  return { chunks: [], info: {}, complete: false, totalFrames: 0 };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

const isIFrame = (v: unknown): boolean => Array.isArray(v) && v.length === 3 && v.every(isCount);
const isIFrames = (v: unknown): boolean => Array.isArray(v) && v.length > 0 && v.every(isIFrame);

function isChunk(v: unknown): v is ChunkRecord {
  if (!isObject(v) || !isCount(v.index) || !isCount(v.startFrame) || !isCount(v.frames) || v.frames === 0) return false;
  const audioOk = v.audio === undefined || (typeof v.audio === 'number' && Number.isFinite(v.audio) && v.audio > 0);
  return audioOk && isObject(v.bytes) && Object.values(v.bytes).every(isCount) && isObject(v.iframes) && Object.values(v.iframes).every(isIFrames);
}

function isInfo(v: unknown): v is RenditionInfo {
  return isObject(v) && typeof v.codecs === 'string' && isCount(v.width) && isCount(v.height) && typeof v.frameRate === 'number' && Number.isFinite(v.frameRate) && v.frameRate >= 0;
}

/** state.json as writeState wrote it; anything else (cut short, edited, another shape) is undefined. */
function isState(v: unknown): v is EncodeState {
  if (!isObject(v) || !Array.isArray(v.chunks) || !isObject(v.info) || typeof v.complete !== 'boolean' || !isCount(v.totalFrames)) return false;
  const chunks = v.chunks as unknown[];
  return chunks.every(isChunk) && new Set(chunks.map((c) => (c as ChunkRecord).index)).size === chunks.length && Object.values(v.info).every(isInfo);
}

/** The progress recorded in `dir`; a state.json that is missing or not one that writeState wrote counts as none. */
function readState(dir: string): EncodeState {
  const state = readJson<unknown>(join(dir, STATE_FILE));
  return isState(state) ? state : emptyState();
}

/**
 * Claims OUTDIR for `job` and returns the state to continue from. Refuses a folder holding a
 * different job (or something that is not ours) unless `force`; refuses to silently redo or
 * extend an existing encode of the same job unless `resume` or `force`.
 */
export function prepareOutdir(dir: string, job: Job, opts: { resume: boolean; force: boolean }): EncodeState {
  makeFolder(dir);
  try {
    accessSync(dir, constants.W_OK);
    writeAtomic(join(dir, '.probe'), '');
    rmSync(join(dir, '.probe'));
  } catch (e) {
    throw new HcdError(`output folder ${dir} is not writable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const entries = readdirSync(dir);
  const oldJob = readJson<unknown>(join(dir, JOB_FILE));
  const ours = (name: string) => OWN_ENTRIES.includes(name) || RENDITION_FOLDER.test(name);
  if (entries.length > 0 && !opts.force) {
    if (!oldJob) throw new HcdError(`output folder ${dir} is not empty and holds no hcd job; use --force to write into it`);
    if (!sameJob(oldJob, job)) throw new HcdError(`output folder ${dir} holds a different job (${describeJob(oldJob)}); use --force to replace it`);
    const state = readState(dir);
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
