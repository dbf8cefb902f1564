import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { HcdError } from '../../shared/errors.js';
import type { EncodeConfig } from '../../config.js';
import { hcdActive } from '../hcd/options.js';
import { CodecLoop } from '../hcd/codec-loop.js';
import { fitToScale, probeSource, type FrameGeometry, type SourceInfo } from '../media/probe.js';
import { framesWithin } from '../media/rate.js';
import { checkPairScale, loadPair, type RescalingPair } from '../pairs/load.js';
import type { FrameRescaler } from '../pairs/runtime.js';
import { FlickerMeter } from './flicker.js';
import { jobTag } from './names.js';
import { ladderFrom } from './renditions.js';
import { planLadder, writeLadder, type LadderFrom } from './ladder.js';
import type { LadderReport } from '../ladder/report.js';
import { createRescaler } from '../hcd/rescalers.js';
import { describeInput, prepareOutdir, RENDITION_FOLDER, type AudioRendition, type EncodeState, type Job, type Rendition } from './state.js';
import { writeUpscaler } from './upscaler.js';

/** What tests may hand in instead of loading: a pair, or a whole rescaler. */
export interface EncodeDeps {
  pair?: RescalingPair;
  rescaler?: FrameRescaler;
}

/** Everything an encode decides before a session opens or OUTDIR is touched. */
export interface JobPlan {
  cfg: EncodeConfig;
  src: SourceInfo;
  pair: RescalingPair;
  /** The HR frame after cropping to a multiple of 2 x scale, and the LR frame. */
  geo: FrameGeometry;
  lr: { width: number; height: number };
  /** The video renditions, each with its audio group. */
  renditions: Rendition[];
  /** One per audio group; none for a silent input. */
  audio: AudioRendition[];
  /** The per-title ladder's report (an auto ladder); `ladderFresh` when this run chose it. */
  ladderReport?: LadderReport;
  ladderFresh?: boolean;
  /** The job record job.json holds. */
  job: Job;
  /** The job's tag in segment names (names.ts). */
  tag: string;
  /** Frames per GOP: an IDR frame starts each. */
  gop: number;
  /** Frames per chunk (= per segment): a whole number of GOPs. */
  chunk: number;
  /** Frames the run should read: the source's count at its reading rate, capped by --seconds (Infinity when unknown). */
  expected: number;
  /**
   * Frames to decode at most (undefined: to the end): --seconds' worth at the reading rate, which
   * is seconds of source whatever its timing, and for variable-rate input the frames its length
   * fills, as ffmpeg can show its last frame once more than that.
   */
  limit?: number;
}

/** A plan whose OUTDIR is claimed: what the playlists and state.json are written from. */
export interface ClaimedJob extends JobPlan {
  state: EncodeState;
  out: string;
  /** OUTDIR/.work: per-chunk temporaries, removed at the end. */
  work: string;
}

export interface JobSessions {
  rescaler: FrameRescaler;
  loop?: CodecLoop;
  flicker?: FlickerMeter;
}

/** An encode whose OUTDIR is claimed and whose sessions are open: everything the frame loop reads. */
export interface OpenJob extends ClaimedJob, JobSessions {}

/** Everything that decides the output bytes, as job.json records it. */
function jobRecord(cfg: EncodeConfig, model: string, ladder: Pick<OpenJob, 'renditions' | 'audio'>): Job {
  const options: Job['options'] = {
    seconds: cfg.seconds ?? null,
    segment: cfg.segment,
    gop: cfg.gop,
    renditions: ladder.renditions,
    audio: ladder.audio,
    codecAware: cfg.codecAware,
    ...(cfg.codecAware ? { codecLoop: cfg.codecLoop } : {}),
    hcdIters: hcdActive(cfg.hcdIters) ? cfg.hcdIters : null,
    preset: cfg.preset,
  };
  return { version: 1, input: describeInput(cfg.input), model, options };
}

async function loadCheckedPair(cfg: EncodeConfig, src: SourceInfo, deps: EncodeDeps) {
  const pair = deps.pair ?? (await loadPair(cfg.model));
  const scale = pair.manifest.scale;
  await checkPairScale(pair);
  const geo = fitToScale(src.width, src.height, scale);
  const lr = { width: geo.width / scale, height: geo.height / scale };
  const min = pair.manifest.minLrSize;
  if (lr.width < min || lr.height < min) {
    throw new HcdError(`frame ${src.width}x${src.height} is too small for model '${pair.manifest.id}': the LR frame would be ${lr.width}x${lr.height}, the model needs at least ${min} per side`);
  }
  return { pair, geo, lr };
}

/** Work files and half-renamed segments of a chunk that was never recorded (it will be redone). */
export function removeLeftovers(out: string, work: string): void {
  rmSync(work, { recursive: true, force: true });
  for (const name of readdirSync(out).filter((n) => RENDITION_FOLDER.test(n))) {
    const dir = join(out, name);
    if (existsSync(dir)) for (const f of readdirSync(dir)) if (f.endsWith('.tmp')) rmSync(join(dir, f), { force: true });
  }
}

/** Frames per GOP and per chunk at the source's rate: a chunk is always a whole number of GOPs. */
function framesPer(cfg: EncodeConfig, src: SourceInfo): Pick<OpenJob, 'gop' | 'chunk'> {
  const fps = src.fpsNum / src.fpsDen;
  const gop = Math.max(1, Math.round(cfg.gop * fps));
  return { gop, chunk: gop * Math.round(cfg.segment / cfg.gop) };
}

function frameCounts(cfg: EncodeConfig, src: SourceInfo): Pick<OpenJob, 'expected' | 'limit'> {
  const bySeconds = cfg.seconds !== undefined ? framesWithin(cfg.seconds, { num: src.fpsNum, den: src.fpsDen }) : undefined;
  const byLength = src.variable && src.framesExact ? src.frames : undefined;
  const limit = bySeconds === undefined ? byLength : Math.min(bySeconds, byLength ?? Infinity);
  return { expected: Math.min(src.frames || Infinity, bySeconds ?? Infinity), limit };
}

export interface PlanOptions {
  /** A queued chunk's worker reads the ladder the submitter chose; default: choose it (or reuse it on --resume). */
  ladderFrom?: LadderFrom;
  onNote?(line: string): void;
}

/** Probes the input, loads and checks the pair, and derives the ladder and the job record. */
export async function planJob(cfg: EncodeConfig, deps: EncodeDeps, o: PlanOptions = {}): Promise<JobPlan> {
  const src = await probeSource(cfg.input);
  const { pair, geo, lr } = await loadCheckedPair(cfg, src, deps);
  const frames = { ...framesPer(cfg, src), ...frameCounts(cfg, src) };
  const planned = await planLadder(cfg, { src, geo, pair, expected: frames.expected, gop: frames.gop, from: o.ladderFrom ?? 'choose', onNote: o.onNote });
  const ladder = ladderFrom(planned.rungs, cfg.audioBitrates, src.hasAudio);
  const job = jobRecord(cfg, pair.manifest.id, ladder);
  return { cfg, src, pair, geo, lr, ...ladder, ladderReport: planned.report, ladderFresh: planned.fresh, job, tag: jobTag(job), ...frames };
}

/** Claims OUTDIR for the plan (refusing another job), sweeps what an interrupted run left, writes upscaler/. */
export function claimJob(plan: JobPlan): ClaimedJob {
  const { cfg } = plan;
  const state = prepareOutdir(cfg.outdir, plan.job, { resume: cfg.resume, force: cfg.force });
  const work = join(cfg.outdir, '.work');
  removeLeftovers(cfg.outdir, work);
  mkdirSync(work, { recursive: true });
  writeUpscaler(cfg.outdir, plan.pair);
  if (plan.ladderFresh && plan.ladderReport) writeLadder(cfg.outdir, plan.ladderReport);
  return { ...plan, state, out: cfg.outdir, work };
}

/** Whether any rung is the pair's LR frame: without one, no frame is rescaled. */
export const hasNeuralRung = (j: Pick<JobPlan, 'renditions'>): boolean => j.renditions.some((r) => r.kind === 'lr');
/** The LR frame of a job without neural rungs: nothing reads it. */
export const NO_LR = new Uint8Array(0);

/** The rescaler, and the codec loop and flicker meter where asked for; all closed again on failure. */
export async function openSessions(plan: JobPlan, onWarning: ((m: string) => void) | undefined, deps: EncodeDeps, opts: { flicker: boolean; threads?: number }): Promise<JobSessions> {
  const { cfg, pair } = plan;
  const { threads } = opts;
  const rescaler = deps.rescaler ?? (await createRescaler(pair, { ep: cfg.ep, onWarning, hcdIters: cfg.hcdIters, threads }));
  const s: JobSessions = { rescaler };
  try {
    if (rescaler.scale !== pair.manifest.scale) throw new HcdError(`rescaler scale ${rescaler.scale} does not match model scale ${pair.manifest.scale} (mismatched scale)`);
    if (cfg.codecAware) s.loop = await CodecLoop.create(pair, { ep: cfg.ep, threads });
    if (opts.flicker) s.flicker = await FlickerMeter.create(pair, { ep: cfg.ep });
    return s;
  } catch (e) {
    await closeSessions(s);
    throw e;
  }
}

/**
 * Checks everything that can be refused before OUTDIR is touched, then opens the sessions and
 * claims OUTDIR. On any failure the sessions opened so far are closed again.
 */
export async function openJob(cfg: EncodeConfig, hooks: { onWarning?(m: string): void; onNote?(line: string): void }, deps: EncodeDeps): Promise<OpenJob> {
  const onWarning = hooks.onWarning;
  const plan = await planJob(cfg, deps, { onNote: hooks.onNote });
  const sessions = await openSessions(plan, onWarning, deps, { flicker: true });
  try {
    return { ...claimJob(plan), ...sessions };
  } catch (e) {
    await closeSessions(sessions);
    throw e;
  }
}

export async function closeSessions(j: JobSessions): Promise<void> {
  await j.rescaler.close();
  await j.loop?.close();
  await j.flicker?.close();
}
