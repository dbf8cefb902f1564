/**
 * The ladder probe's unit of work: one window of the title, read once into files of its own, and
 * one candidate encoded from them at one CRF and measured as the viewer sees it.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { HcdError } from '../../shared/errors.js';
import type { RgbImage } from '../../shared/image.js';
import { createRescaler } from '../hcd/rescalers.js';
import type { HcdIters } from '../hcd/options.js';
import type { ExecutionProvider } from '../graph/session.js';
import { RGB_TO_MEASURED } from '../media/colour.js';
import type { DecodeOptions } from '../media/decode.js';
import { ffmpegWithFrames, fileArg, rawRgbInput, runFfmpeg } from '../media/ffmpeg.js';
import { writeFrames } from '../media/files.js';
import { measureSize } from '../media/measure.js';
import type { VmafModel } from '../media/quality.js';
import { SceneCutDetector } from '../media/scenecut.js';
import { x264Args } from '../media/x264.js';
import type { PairNetwork } from '../pairs/network.js';
import type { RescalingPair } from '../pairs/load.js';
import type { Candidate, Size } from './candidates.js';
import type { RateRange } from './crfs.js';
import type { LadderMetric } from './options.js';
import { measureShown } from './shown.js';
import { readWindow, type WindowPlan } from './windows.js';

/** The title as the encoder reads it: its frames at the job's geometry and rate. */
export interface ProbeSource {
  input: string;
  fpsNum: number;
  fpsDen: number;
  /** Frames the encode will read. */
  total: number;
  hr: Size;
  /** How the encoder decodes the input (matrix, range, crop), less where and how much. */
  decode: Omit<DecodeOptions, 'start' | 'frames' | 'width' | 'height'>;
}

export interface ProbeSettings {
  pair: RescalingPair;
  /** The encode's HCD iterations: the probe runs the plain pair and measures HCD against it on one window. */
  hcdIters: HcdIters;
  neural: boolean;
  preset: string;
  /** Frames per GOP, as the encode. */
  gop: number;
  vmaf?: VmafModel;
  ep?: ExecutionProvider;
  threads?: number;
  /** A folder of the probe's own for its temporary files. */
  work: string;
  /**
   * The rates the ladder's targets span: each candidate is encoded only at the CRFs that reach
   * past them (crfs.ts). Absent: every CRF on every window.
   */
  range?: RateRange;
  /** The metric the ladder is chosen by (default PSNR-Y): the neural stop (stop.ts) judges by it. */
  metric?: LadderMetric;
  /**
   * Stop measuring the neural candidate once the windows it lost on leave its rung no way to be
   * chosen (stop.ts). Default: on wherever `range` is given.
   */
  stopNeural?: boolean;
  /**
   * Whether the HCD proxy window is worth measuring, asked once every window is measured. Its
   * only use is to make neural rungs harder to choose, so where none would be chosen without it,
   * it cannot change the ladder (default: always).
   */
  needsProxy?(r: ProbeResult): boolean;
  signal?: AbortSignal;
  /** Encodes done and to do. */
  onStep?(done: number, of: number): void;
}

/** One candidate encoded at one CRF on one window, measured at the display size. */
export interface ProbePoint {
  window: number;
  crf: number;
  /** H.264 payload bits and the window's frames. */
  bits: number;
  frames: number;
  psnr_y: number;
  vmaf: number | null;
}

export interface ProbeResult {
  windows: { start: number; frames: number }[];
  candidates: { candidate: Candidate; points: ProbePoint[] }[];
  /**
   * The encode's HCD LR frames on one window, at the probe's CRFs: what the plain pair (the
   * neural candidate's proxy) is measured against. Absent without HCD or a neural candidate.
   */
  proxy?: { window: number; points: ProbePoint[] };
  /**
   * Where the probe stopped measuring the neural candidate: the windows it lost on, of how many,
   * and by at least what (stop.ts). Its points stay, measured on fewer windows than the others'.
   */
  neuralStop?: { windows: number[]; of: number; margin: number };
  /** Wall time of the probe. */
  seconds: number;
}

export const interrupted = (): HcdError => new HcdError('interrupted during the ladder probe; nothing was written', 130);

/**
 * Frames kept in a raw RGB file: x264 reads them from there rather than from a pipe, so the
 * conventional encodes go on while the pair's networks hold Node's main thread (onnxruntime-node
 * runs a session there, whatever its thread pool).
 */
export interface FramesFile {
  file: string;
  count: number;
}

async function framesFile(file: string, frames: Uint8Array[]): Promise<FramesFile> {
  await writeFrames(file, frames);
  return { file, count: frames.length };
}

async function readFramesFile(f: FramesFile, size: Size): Promise<Uint8Array[]> {
  const data = await readFile(f.file);
  const n = size.width * size.height * 3;
  return Array.from({ length: f.count }, (_, i) => data.subarray(i * n, (i + 1) * n));
}

/** One window, read: its files in a folder of its own, which goes with it. */
export interface OpenWindow {
  s: ProbeSource;
  o: ProbeSettings;
  up?: PairNetwork;
  window: number;
  /** Its first frame in the title, after any move to a cut. */
  start: number;
  dir: string;
  /** The window's frames in the measured space, which every point is measured against. */
  ref: string;
  hr: FramesFile;
  /** The pair's plain LR frames, once some point needs them. */
  lr?: Promise<FramesFile>;
}

/**
 * Reads window `window` into its folder: its frames, and the same frames in the measured space,
 * written once (every point of the window is measured against them, as the encode's check
 * measures its rungs against the frames it read, job/measured.ts).
 */
export async function openWindow(s: ProbeSource, o: ProbeSettings, up: PairNetwork | undefined, window: number, plan: WindowPlan): Promise<OpenWindow> {
  const win = await readWindow(s.input, plan, s.fpsNum / s.fpsDen, { ...s.decode, ...s.hr });
  const dir = join(o.work, `w${window}`);
  await mkdir(dir, { recursive: true });
  const ref = join(dir, 'ref.y4m');
  await ffmpegWithFrames([...rawRgbInput(s.hr.width, s.hr.height, `${s.fpsNum}/${s.fpsDen}`), '-vf', RGB_TO_MEASURED, '-f', 'yuv4mpegpipe', fileArg(ref)], win.frames);
  return { s, o, up, window, start: win.start, dir, ref, hr: await framesFile(join(dir, 'hr.rgb'), win.frames) };
}

export async function closeWindow(at: OpenWindow): Promise<void> {
  await rm(at.dir, { recursive: true, force: true });
}

/**
 * The points' ffmpeg processes yield the cores to the pair's D (down-process.ts): D makes the
 * neural candidate's frames one window after another and is the probe's longest chain, while a
 * conventional point can run whenever a core is free. Not the measurement of a neural point: it
 * reads what U makes on the main thread, which would wait for it.
 */
const POINT_PRIORITY = 10;

/** Encodes `src` for candidate `c` at `crf` with the encoder's x264 settings and measures it as the viewer sees it (PSNR, and VMAF where asked). */
export async function point(at: OpenWindow, c: Candidate, src: FramesFile, crf: number): Promise<ProbePoint> {
  const { s, o } = at;
  const rate = `${s.fpsNum}/${s.fpsDen}`;
  const mp4 = join(at.dir, `${c.id.replace('/', '_')}-${crf}.mp4`);
  const input = c.kind === 'down' ? s.hr : { width: c.width, height: c.height };
  await runFfmpeg(x264Args({ width: c.width, height: c.height, input, from: src.file, fpsNum: s.fpsNum, fpsDen: s.fpsDen, rate: { crf }, gop: o.gop, preset: o.preset, place: { start: 0, fragmentIndex: 1 }, out: mp4 }), { priority: POINT_PRIORITY });
  try {
    const bits = (await measureSize(mp4)).payloadBytes * 8;
    const q = await measureShown(c.kind, mp4, c, { reference: at.ref, referenceMeasured: true, hr: s.hr, rate, up: at.up, vmaf: o.vmaf, ssim: false, threads: o.threads, ...(c.kind === 'lr' ? {} : { priority: POINT_PRIORITY }) });
    if (q.frames !== src.count) throw new Error(`probe ${c.id} at CRF ${crf}: measured ${q.frames} frames of ${src.count}`);
    return { window: at.window, crf, bits, frames: src.count, psnr_y: q.psnr_y, vmaf: q.vmaf };
  } finally {
    await rm(mp4, { force: true });
  }
}

/** The encode's HCD LR frames of the window, in this process (warm starts reset at cuts as in the encoder). */
export async function hcdFrames(at: OpenWindow, pair: RescalingPair, o: { ep?: ExecutionProvider; threads?: number; hcdIters: HcdIters }): Promise<FramesFile> {
  const hr = at.s.hr;
  const rescaler = await createRescaler(pair, o);
  const scenes = new SceneCutDetector();
  try {
    const out: Uint8Array[] = [];
    for (const [index, data] of (await readFramesFile(at.hr, hr)).entries()) {
      const img: RgbImage = { ...hr, data };
      out.push((await rescaler.process(img, { index, sceneCut: scenes.next(img) })).data);
    }
    return await framesFile(join(at.dir, 'hcd.rgb'), out);
  } finally {
    await rescaler.close();
  }
}
