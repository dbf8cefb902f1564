import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { HcdError } from '../../shared/errors.js';
import { ffmpegPath, ffmpegWithFrames, fileArg, runFfmpeg } from './ffmpeg.js';
import { RGB_TO_MEASURED, YUV709_TO_RGB } from './colour.js';

/**
 * Quality at source size after the display upscaler. PSNRs are means over frames of per-frame
 * PSNR (dB, capped at 100 for identical frames); psnr_yuv is (6 Y + U + V) / 8, the JCT-VC
 * weighting; SSIM is ffmpeg's filter on Y and on all planes; VMAF is the mean of the per-frame
 * scores and vmaf_p5 their 5th percentile (the worst moments), both null when no model was
 * available (never estimated).
 */
export interface QualityScores {
  frames: number;
  psnr_y: number;
  psnr_u: number;
  psnr_v: number;
  psnr_yuv: number;
  ssim_y: number;
  ssim_all: number;
  vmaf: number | null;
  vmaf_p5: number | null;
}

/** Per-frame PSNR is capped here so one identical frame cannot make the mean infinite. */
export const PSNR_CAP = 100;

function fields(line: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of line.matchAll(/(\w+):(-?[\d.]+|inf)/g)) out[m[1]] = m[2] === 'inf' ? Infinity : Number(m[2]);
  return out;
}

const mseToPsnr = (mse: number): number => (mse <= 0 ? PSNR_CAP : Math.min(PSNR_CAP, 10 * Math.log10((255 * 255) / mse)));
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Parses ffmpeg's psnr and ssim stats files into means over frames; without an ssim log the SSIMs are NaN. */
export function parseStats(psnrLog: string, ssimLog?: string): Omit<QualityScores, 'vmaf' | 'vmaf_p5'> {
  const p = psnrLog.split('\n').filter((l) => l.startsWith('n:')).map(fields);
  const s = ssimLog?.split('\n').filter((l) => l.startsWith('n:')).map(fields);
  if (p.length === 0 || s?.length === 0) throw new Error('quality measurement produced no frames');
  const y = mean(p.map((f) => mseToPsnr(f.mse_y)));
  const u = mean(p.map((f) => mseToPsnr(f.mse_u)));
  const v = mean(p.map((f) => mseToPsnr(f.mse_v)));
  return {
    frames: p.length,
    psnr_y: y,
    psnr_u: u,
    psnr_v: v,
    psnr_yuv: (6 * y + u + v) / 8,
    ssim_y: s ? mean(s.map((f) => f.Y)) : NaN,
    ssim_all: s ? mean(s.map((f) => f.All)) : NaN,
  };
}

/**
 * The p-th percentile (0-100) by linear interpolation between order statistics (numpy's
 * default), so that it does not jump from frame to frame on short clips.
 */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const at = ((s.length - 1) * p) / 100;
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo] + (s[hi] - s[lo]) * (at - lo);
}

export interface VmafPooled {
  mean: number;
  /** 5th percentile of the per-frame scores; null when the log has no per-frame scores. */
  p5: number | null;
  frames: number;
  /** libvmaf's version, as the log states it. */
  version?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const finiteOr = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** frames[].metrics.vmaf, in both libvmaf 1.x and 2.x logs. */
function perFrameVmaf(log: Record<string, unknown>): number[] {
  if (!Array.isArray(log.frames)) return [];
  const scores = log.frames.map((f: unknown) => (isObject(f) && isObject(f.metrics) ? finiteOr(f.metrics.vmaf) : undefined));
  if (scores.some((s) => s === undefined)) throw new Error('libvmaf log: a frame without a vmaf score');
  return scores as number[];
}

/**
 * Pools a libvmaf JSON log. libvmaf 1.3.x (ffmpeg 4.x) writes only per-frame scores
 * (frames[].metrics.vmaf) and prints the aggregate to stderr; 2.x writes the per-frame scores and
 * pooled_metrics.vmaf. The per-frame scores win where they exist, so mean and p5 come from the
 * same numbers; pooled_metrics (or 1.x's aggregate.VMAF_score, from the standalone tool) is used
 * only for a log without them.
 */
export function parseVmafLog(text: string): VmafPooled {
  let log: unknown;
  try {
    log = JSON.parse(text);
  } catch {
    throw new Error('libvmaf log is not JSON');
  }
  if (!isObject(log)) throw new Error('libvmaf log is not a JSON object');
  const version = typeof log.version === 'string' ? log.version : undefined;
  const frames = perFrameVmaf(log);
  if (frames.length > 0) return { mean: mean(frames), p5: percentile(frames, 5), frames: frames.length, version };
  const pooled = isObject(log.pooled_metrics) && isObject(log.pooled_metrics.vmaf) ? finiteOr(log.pooled_metrics.vmaf.mean) : undefined;
  const aggregate = isObject(log.aggregate) ? finiteOr(log.aggregate.VMAF_score) : undefined;
  const m = pooled ?? aggregate ?? finiteOr(log.VMAF_score);
  if (m === undefined) throw new Error('libvmaf log has neither per-frame nor pooled vmaf scores');
  return { mean: m, p5: null, frames: 0, version };
}

/**
 * A VMAF model as ffmpeg's libvmaf filter takes it. libvmaf 1.x (ffmpeg 4.x) has the option
 * model_path and no built-in model; 2.x has model, with built-in models by version name
 * (model=version=vmaf_v0.6.1) or files (model=path=FILE, .json).
 */
export interface VmafModel {
  api: 'model_path' | 'model';
  /** A model file. */
  file?: string;
  /** A model built into libvmaf 2.x, by version name. */
  builtin?: string;
}

/** The filter graph parser wants ':' '\' and ''' escaped inside option values. */
const escValue = (p: string): string => p.replace(/\\/g, '\\\\').replace(/:/g, '\\:').replace(/'/g, "\\'");

/** The libvmaf filter for one model, writing its JSON log to `logPath`. */
export function vmafFilter(m: VmafModel, logPath: string, threads: number): string {
  if (m.api === 'model_path') {
    if (!m.file) throw new Error('libvmaf 1.x needs a model file');
    return `libvmaf=model_path=${escValue(m.file)}:log_fmt=json:log_path=${escValue(logPath)}:n_threads=${threads}`;
  }
  // 2.x parses the model value again (path=...:name=...), so a file name is escaped twice
  const model = m.file ? `path=${escValue(m.file)}` : `version=${m.builtin ?? 'vmaf_v0.6.1'}`;
  return `libvmaf=model=${escValue(model)}:log_fmt=json:log_path=${escValue(logPath)}:n_threads=${threads}`;
}

/**
 * Which model option this ffmpeg's libvmaf filter has, from `ffmpeg -h filter=libvmaf`:
 * 'model' (libvmaf 2.x; some builds list the old model_path too, deprecated), 'model_path'
 * (1.x), or undefined when the filter is not built in.
 */
export function libvmafApiOf(help: string): VmafModel['api'] | undefined {
  if (!/libvmaf AVOptions/.test(help)) return undefined;
  if (/^\s+model\s+</m.test(help)) return 'model';
  if (/^\s+model_path\s+</m.test(help)) return 'model_path';
  return undefined;
}

/** libvmafApiOf for the ffmpeg this project runs (FFMPEG_PATH or the bundled one). */
export async function libvmafApi(): Promise<VmafModel['api'] | undefined> {
  try {
    const { stdout, stderr } = await runFfmpeg(['-h', 'filter=libvmaf']);
    return libvmafApiOf(stdout.toString('utf8') + stderr);
  } catch (e) {
    if (e instanceof HcdError) throw e;
    // some builds exit non-zero for a filter they do not have
    return undefined;
  }
}

/**
 * Why a model did not load, from ffmpeg's output: libvmaf 1.x prints "Caught <exception>: <why>"
 * on stdout, 2.x logs "could not load/parse ... model ..." on stderr.
 */
function loadFailure(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const why = lines.find((l) => l.startsWith('Caught ')) ?? lines.find((l) => /model/i.test(l)) ?? lines[lines.length - 1] ?? 'no message';
  return why.replace(/^Caught /, '').replace(/^\[[^\]]*\]\s*/, '');
}

/** What a libvmaf 1.x user most likely got wrong. */
function loadHint(m: VmafModel): string {
  if (m.api !== 'model_path' || !m.file) return '';
  if (!m.file.endsWith('.pkl')) return ' (libvmaf 1.x reads .pkl models; .json models are for libvmaf 2.x)';
  return existsSync(`${m.file}.model`) ? '' : ` (libvmaf 1.x also reads ${basename(m.file)}.model beside it, which is missing)`;
}

/**
 * Loads the model once on two tiny synthetic frames, so that a model libvmaf cannot read stops
 * the run with one line before any encoding; returns libvmaf's version from the log. Run with
 * spawnSync rather than runFfmpeg: libvmaf 1.x says why a model failed on stdout, which
 * runFfmpeg's error (the end of stderr) leaves out.
 */
export async function checkVmafModel(m: VmafModel): Promise<string | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'hcd-vmaf-'));
  const log = join(dir, 'vmaf.json');
  const name = m.file ?? `${m.builtin ?? 'vmaf_v0.6.1'} (built into libvmaf)`;
  try {
    const src = 'testsrc=size=176x144:rate=4:duration=0.5,format=yuv420p';
    const args = ['-hide_banner', '-nostdin', '-v', 'error', '-f', 'lavfi', '-i', `${src},boxblur=1`, '-f', 'lavfi', '-i', src, '-lavfi', `[0:v][1:v]${vmafFilter(m, log, 1)}`, '-f', 'null', '-'];
    const r = spawnSync(ffmpegPath(), args, { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) return parseVmafLog(await readFile(log, 'utf8')).version;
    throw new HcdError(`VMAF model ${name} failed to load: ${loadFailure(`${r.stdout ?? ''}\n${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}`)}${loadHint(m)}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface MeasureOptions {
  /** The reference video (the source, yuv420p). */
  reference: string;
  /** Input args for the reference instead of `-i reference` (raw RGB frames, say). */
  referenceInput?: string[];
  /** The filter that turns the reference into displayed RGB (default: BT.709 limited-range YUV to RGB; 'null' for RGB). */
  referenceFilter?: string;
  /**
   * The reference is already in the measured space (displayed RGB through RGB_TO_MEASURED, kept
   * losslessly as yuv444p): no filter at all, so a reference measured against many times is
   * converted once.
   */
  referenceMeasured?: boolean;
  /** Input args for the distorted video (a file, or raw frames on stdin). */
  distortedInput: string[];
  /** Filter that turns the distorted input into displayed RGB (rgb24) at the reference size; none for RGB on stdin. */
  distortedFilter?: string;
  /** Frames for stdin when distortedInput reads pipe:0. */
  frames?: AsyncIterable<Uint8Array>;
  /** libvmaf model (checked with checkVmafModel first); no model, no VMAF. */
  vmaf?: VmafModel;
  /** false: no SSIM (NaN in the scores), for a caller that reads only PSNR and VMAF (default true). */
  ssim?: boolean;
  threads?: number;
  /** A niceness for the measuring ffmpeg (RunOptions.priority). */
  priority?: number;
}

/**
 * Runs ffmpeg's psnr and ssim filters (and libvmaf when a model is given) on the distorted video
 * against the reference, both as displayed RGB taken to BT.709 YCbCr 4:4:4 at the reference size.
 */
export async function measure(o: MeasureOptions): Promise<QualityScores> {
  const dir = await mkdtemp(join(tmpdir(), 'hcd-q-'));
  try {
    const psnrFile = join(dir, 'psnr.log');
    const ssimFile = join(dir, 'ssim.log');
    const vmafFile = join(dir, 'vmaf.json');
    const threads = o.threads ?? 2;
    const ssim = o.ssim ?? true;
    const labels = (p: string) => ['psnr', ...(ssim ? ['ssim'] : []), ...(o.vmaf ? ['vmaf'] : [])].map((m) => `[${p}${m}]`);
    const n = labels('').length;
    const split = n > 1 ? `split=${n}` : 'null';
    const dist = [o.distortedFilter, RGB_TO_MEASURED, 'setpts=PTS-STARTPTS', split].filter(Boolean).join(',');
    const graph = [
      `[0:v]${dist}${labels('d').join('')}`,
      `[1:v]${o.referenceMeasured ? '' : `${o.referenceFilter ?? YUV709_TO_RGB},${RGB_TO_MEASURED},`}setpts=PTS-STARTPTS,${split}${labels('r').join('')}`,
      `[dpsnr][rpsnr]psnr=stats_file=${escValue(psnrFile)}`,
      ...(ssim ? [`[dssim][rssim]ssim=stats_file=${escValue(ssimFile)}`] : []),
      ...(o.vmaf ? [`[dvmaf][rvmaf]${vmafFilter(o.vmaf, vmafFile, threads)}`] : []),
    ].join(';');
    const args = ['-threads', String(threads), ...o.distortedInput, ...(o.referenceInput ?? ['-i', fileArg(o.reference)]), '-filter_complex', graph, '-an', '-f', 'null', '-'];
    if (o.frames) await ffmpegWithFrames(args, o.frames, o.priority);
    else await runFfmpeg(args, { priority: o.priority });
    const scores = parseStats(await readFile(psnrFile, 'utf8'), ssim ? await readFile(ssimFile, 'utf8') : undefined);
    if (!o.vmaf) return { ...scores, vmaf: null, vmaf_p5: null };
    const v = parseVmafLog(await readFile(vmafFile, 'utf8'));
    if (v.frames > 0 && v.frames !== scores.frames) throw new Error(`libvmaf scored ${v.frames} frames, psnr ${scores.frames}`);
    return { ...scores, vmaf: v.mean, vmaf_p5: v.p5 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
