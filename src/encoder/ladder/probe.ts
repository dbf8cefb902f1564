import { rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { HcdError } from '../../shared/errors.js';
import type { RgbImage } from '../../shared/image.js';
import { createRescaler } from '../hcd/rescalers.js';
import { hcdActive, type HcdIters } from '../hcd/options.js';
import type { ExecutionProvider } from '../graph/session.js';
import { RGB_TO_MEASURED } from '../media/colour.js';
import type { DecodeOptions } from '../media/decode.js';
import { ffmpegWithFrames, fileArg, rawRgbInput } from '../media/ffmpeg.js';
import { measureSize } from '../media/measure.js';
import type { VmafModel } from '../media/quality.js';
import { SceneCutDetector } from '../media/scenecut.js';
import { x264Args } from '../media/x264.js';
import { measureShown } from './shown.js';
import { PairNetwork } from '../pairs/network.js';
import type { RescalingPair } from '../pairs/load.js';
import { candidatesFor, type Candidate, type Size } from './candidates.js';
import { PROBE } from './options.js';
import { planWindows, readWindow, type ProbeWindow, type WindowPlan } from './windows.js';

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
  /** Wall time of the probe. */
  seconds: number;
}

interface Tools {
  s: ProbeSource;
  o: ProbeSettings;
  up?: PairNetwork;
  ref: string;
  window: number;
}

/** Encodes `frames` for candidate `c` at `crf` with the encoder's x264 settings and measures it as the viewer sees it. */
async function point(t: Tools, c: Candidate, frames: Uint8Array[], crf: number): Promise<ProbePoint> {
  const { s, o } = t;
  const rate = `${s.fpsNum}/${s.fpsDen}`;
  const mp4 = join(o.work, `${c.id.replace('/', '_')}-${t.window}-${crf}.mp4`);
  const input = c.kind === 'down' ? s.hr : undefined;
  const args = x264Args({ width: c.width, height: c.height, input, fpsNum: s.fpsNum, fpsDen: s.fpsDen, rate: { crf }, gop: o.gop, preset: o.preset, place: { start: 0, fragmentIndex: 1 }, out: mp4 });
  await ffmpegWithFrames(args, frames);
  try {
    const bits = (await measureSize(mp4)).payloadBytes * 8;
    const q = await measureShown(c.kind, mp4, c, { reference: t.ref, referenceMeasured: true, hr: s.hr, rate, up: t.up, vmaf: o.vmaf, threads: o.threads });
    if (q.frames !== frames.length) throw new Error(`probe ${c.id} at CRF ${crf}: measured ${q.frames} frames of ${frames.length}`);
    return { window: t.window, crf, bits, frames: frames.length, psnr_y: q.psnr_y, vmaf: q.vmaf };
  } finally {
    await rm(mp4, { force: true });
  }
}

/** The pair's LR frames for a window: plain, or with the encode's HCD (warm starts reset at cuts as in the encoder). */
async function lrFrames(pair: RescalingPair, frames: Uint8Array[], hr: Size, o: ProbeSettings, hcdIters?: HcdIters): Promise<Uint8Array[]> {
  const rescaler = await createRescaler(pair, { ep: o.ep, threads: o.threads, hcdIters });
  const scenes = new SceneCutDetector();
  try {
    const out: Uint8Array[] = [];
    for (const [index, data] of frames.entries()) {
      const img: RgbImage = { ...hr, data };
      out.push((await rescaler.process(img, { index, sceneCut: scenes.next(img) })).data);
    }
    return out;
  } finally {
    await rescaler.close();
  }
}

/** x264 runs on one thread per encode (as in the encode), so the probe runs one encode per core. */
const parallelism = (o: ProbeSettings): number => Math.max(1, Math.min(4, o.threads ?? availableParallelism()));

/** `fn` over `items`, at most `n` at once; results in the items' order, so the probe's output does not depend on timing. */
async function inParallel<T, R>(items: T[], n: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, lane));
  return out;
}

/**
 * The window's frames in the measured space, once: every point of the window is measured against
 * them, as the encode's check measures its rungs against the frames it read (job/measured.ts).
 */
async function writeReference(path: string, frames: Uint8Array[], s: ProbeSource): Promise<void> {
  await ffmpegWithFrames([...rawRgbInput(s.hr.width, s.hr.height, `${s.fpsNum}/${s.fpsDen}`), '-vf', RGB_TO_MEASURED, '-f', 'yuv4mpegpipe', fileArg(path)], frames);
}

const interrupted = () => new HcdError('interrupted during the ladder probe; nothing was written', 130);

/** Every candidate on one window at every probe CRF, one encode per core. */
async function measureWindow(t: Tools, win: ProbeWindow, result: ProbeResult, step: () => void): Promise<void> {
  const { o, s } = t;
  const lr = o.neural ? await lrFrames(o.pair, win.frames, s.hr, o) : [];
  const tasks = result.candidates.flatMap((entry) => PROBE.crfs.map((crf) => ({ entry, crf, frames: entry.candidate.kind === 'lr' ? lr : win.frames })));
  const points = await inParallel(tasks, parallelism(o), async (x) => {
    if (o.signal?.aborted) throw interrupted();
    const p = await point(t, x.entry.candidate, x.frames, x.crf);
    step();
    return p;
  });
  tasks.forEach((x, i) => x.entry.points.push(points[i]));
}

/** The encode's own HCD LR frames on one window, at every probe CRF. */
async function measureProxy(t: Tools, win: ProbeWindow, neural: Candidate, step: () => void): Promise<ProbePoint[]> {
  const hcd = await lrFrames(t.o.pair, win.frames, t.s.hr, t.o, t.o.hcdIters);
  const points: ProbePoint[] = [];
  for (const crf of PROBE.crfs) {
    if (t.o.signal?.aborted) throw interrupted();
    points.push(await point(t, { ...neural, id: `${neural.id}-hcd` }, hcd, crf));
    step();
  }
  return points;
}

/** Reads window `window` and runs `fn` on it with its reference written (and removed after). */
async function onWindow<R>(s: ProbeSource, o: ProbeSettings, up: PairNetwork | undefined, window: number, plan: WindowPlan, fn: (t: Tools, win: ProbeWindow) => Promise<R>): Promise<R> {
  const win = await readWindow(s.input, plan, s.fpsNum / s.fpsDen, { ...s.decode, ...s.hr });
  const t: Tools = { s, o, up, window, ref: join(o.work, `ref-${window}.y4m`) };
  await writeReference(t.ref, win.frames, s);
  try {
    return await fn(t, win);
  } finally {
    await rm(t.ref, { force: true });
  }
}

/**
 * Samples the title (windows.ts) and encodes every candidate on every window at every probe CRF.
 * The neural candidate is the pair without HCD, as HCD on every window would cost what the encode
 * costs; on the middle window the encode's own HCD frames are measured too, so the proxy's error
 * is known (choose.ts), unless `needsProxy` says it cannot matter.
 */
export async function runProbe(s: ProbeSource, o: ProbeSettings): Promise<ProbeResult> {
  const t0 = performance.now();
  const plans = planWindows(s.total, s.fpsNum / s.fpsDen);
  const cands = candidatesFor(s.hr, o.pair.manifest.scale, o.neural);
  const withProxy = o.neural && hcdActive(o.hcdIters);
  const steps = plans.length * cands.length * PROBE.crfs.length + (withProxy ? PROBE.crfs.length : 0);
  let done = 0;
  const step = () => o.onStep?.(++done, steps);
  const result: ProbeResult = { windows: [], candidates: cands.map((candidate) => ({ candidate, points: [] })), seconds: 0 };
  const up = o.neural ? await PairNetwork.up(o.pair, '420', { ep: o.ep, threads: o.threads }) : undefined;
  try {
    for (const [window, plan] of plans.entries()) {
      await onWindow(s, o, up, window, plan, async (t, win) => {
        result.windows.push({ start: win.start, frames: win.frames.length });
        await measureWindow(t, win, result, step);
      });
    }
    if (withProxy && (o.needsProxy?.(result) ?? true)) {
      const window = Math.floor(plans.length / 2);
      const neural = cands.find((c) => c.kind === 'lr')!;
      result.proxy = { window, points: await onWindow(s, o, up, window, plans[window], (t, win) => measureProxy(t, win, neural, step)) };
    } else if (withProxy) {
      done = steps; // the proxy's steps, skipped
      o.onStep?.(done, steps);
    }
  } finally {
    await up?.close();
  }
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}
