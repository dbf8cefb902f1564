import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { HcdError } from '../shared/errors.js';
import { readFrames } from '../encoder/media/decode.js';
import { ffmpegWithFrames, fileArg, rawRgbInput, runFfmpeg } from '../encoder/media/ffmpeg.js';
import { RGB_TO_YUV709, YUV709_TO_RGB } from '../encoder/media/colour.js';
import { measure } from '../encoder/media/quality.js';
import { between, fullTables, lowTables, otherMetrics } from './bd.js';
import { CONVENTIONAL } from './pipelines.js';
import { cropMultiple, lrSize } from './scales.js';
import { prepareSource, type SourceInfo } from './source.js';
import { VMAF_NOT_GIVEN, type VmafChoice } from '../encoder/media/vmaf.js';
import type { CompareReport, FramePipeline, Pipeline, RdRow, Size } from './types.js';

export type { CompareReport };
import { describeX264, encodeX264, type X264Settings } from './x264.js';
import { cropTarget, makeCrops, nearestRenditions } from './crops.js';
import { writeReports } from './report.js';

export interface CompareOptions {
  input: string;
  outDir: string;
  seconds?: number;
  /** Seconds into the input to start from. */
  start?: number;
  crfs: number[];
  /**
   * Extra CRFs for the hull pipelines only, so that the hull reaches down to the qualities the
   * downscaled pipelines reach at their highest CRFs: without them A's curve stops at CRF
   * max(crfs) and the hull below that is an extrapolation.
   */
  hullCrfs?: number[];
  /**
   * The pipelines the hull may be made of (conventional ones); those that run make it.
   * Default: every conventional pipeline that runs.
   */
  hull?: string[];
  pipelines: Pipeline[];
  preset?: string;
  threads?: number;
  /** The VMAF model (resolveVmaf); without one, VMAF is reported as unavailable. */
  vmaf?: VmafChoice;
  /** Bitrate (kbit/s) the before/after crops compare at (default: the middle of the common range). */
  cropKbps?: number;
  log?: (line: string) => void;
}


/** The video x264 encodes for this pipeline: the source itself, or a downscaled y4m made once. */
async function makeLr(p: Pipeline, src: SourceInfo, lr: Size, out: string): Promise<string> {
  if (p.kind === 'ffmpeg') {
    const f = p.downFilter(src, lr);
    if (!f) return src.path;
    await runFfmpeg(['-i', fileArg(src.path), '-vf', `${f},format=yuv420p`, '-f', 'yuv4mpegpipe', fileArg(out)]);
    return out;
  }
  const frames = readFrames(src.path, { width: src.width, height: src.height });
  await ffmpegWithFrames([...rawRgbInput(lr.width, lr.height, src.fps), '-vf', RGB_TO_YUV709, '-f', 'yuv4mpegpipe', fileArg(out)], p.downscale(frames, src, lr));
  return out;
}

/** Measures one encoded rendition as the viewer sees it: decoded, upscaled to the source size. */
async function measureRendition(p: Pipeline, mp4: string, src: SourceInfo, lr: Size, o: CompareOptions) {
  const threads = o.threads ?? 2;
  const vmaf = o.vmaf?.model;
  if (p.kind === 'ffmpeg') {
    const up = p.upFilter(src, lr);
    const distortedFilter = up ? `${up},${YUV709_TO_RGB}` : YUV709_TO_RGB;
    return measure({ reference: src.path, distortedInput: ['-i', fileArg(mp4)], distortedFilter, vmaf, threads });
  }
  const decoded = readFrames(mp4, { width: lr.width, height: lr.height });
  return measure({
    reference: src.path,
    distortedInput: rawRgbInput(src.width, src.height, src.fps),
    frames: p.upscale(decoded, lr, src),
    vmaf,
    threads,
  });
}

const fmtVmaf = (q: { vmaf: number | null; vmaf_p5: number | null }): string => (q.vmaf === null ? '' : `, VMAF ${q.vmaf.toFixed(2)} (p5 ${q.vmaf_p5?.toFixed(2) ?? '-'})`);

/**
 * Runs every pipeline at every CRF and measures it. Everything is made in a work folder inside
 * `outDir` and moved into place at the end, so a failed run leaves no half-written report.
 */
export async function runCompare(o: CompareOptions): Promise<CompareReport> {
  const log = o.log ?? (() => undefined);
  if (o.pipelines.length === 0) throw new HcdError('no pipelines to compare');
  if (o.crfs.length < 2) throw new HcdError('give at least two CRF values, a BD-rate needs a curve');
  const work = join(o.outDir, `.compare-work-${randomBytes(4).toString('hex')}`);
  await mkdir(join(work, 'streams'), { recursive: true });
  try {
    log(`decoding ${o.input}${o.start ? ` from ${o.start} s` : ''}${o.seconds !== undefined ? ` (${o.seconds} s)` : ''}`);
    const src = await prepareSource(o.input, join(work, 'source.y4m'), { seconds: o.seconds, start: o.start, multiple: cropMultiple(o.pipelines.map((p) => p.scale)) });
    const duration = src.frames / src.fpsValue;
    log(`source ${src.width}x${src.height}, ${src.frames} frames at ${src.fps} fps (${duration.toFixed(2)} s)`);
    const x264: X264Settings = { preset: o.preset ?? 'medium', keyint: Math.max(1, Math.round(2 * src.fpsValue)), threads: o.threads ?? 2 };
    const ids = o.pipelines.map((p) => p.id);
    const hullSet = o.hull ?? ids.filter((id) => CONVENTIONAL.includes(id));
    const hull = ids.filter((id) => hullSet.includes(id));
    const hullMissing = hullSet.filter((id) => !ids.includes(id));
    if (hullMissing.length) log(`hull: ${hull.join(', ') || 'none'} (${hullMissing.join(', ')} of the hull set not run)`);
    const rows: RdRow[] = [];
    const lrs = new Map<string, Size>();
    const lrPaths = new Map<string, string>();
    for (const p of o.pipelines) {
      const lr = lrSize(src, p.scale);
      lrs.set(p.id, lr);
      log(`${p.id}: ${p.label} (${lr.width}x${lr.height})`);
      const shared = p.kind === 'frames' && p.sameLrAs ? lrPaths.get(p.sameLrAs) : undefined;
      const lrPath = shared ?? (await makeLr(p, src, lr, join(work, `${p.id}-lr.y4m`)));
      lrPaths.set(p.id, lrPath);
      const crfs = hull.includes(p.id) ? [...new Set([...o.crfs, ...(o.hullCrfs ?? [])])].sort((a, b) => a - b) : o.crfs;
      for (const crf of crfs) {
        const name = `${p.id}_crf${crf}`;
        const encodeFrom = p.kind === 'frames' && p.refine ? await refineAt(p, src, lr, lrPath, crf, x264, work) : lrPath;
        const size = await encodeX264(encodeFrom, crf, join(work, 'streams', `${name}.mp4`), x264);
        if (encodeFrom !== lrPath) await rm(encodeFrom, { force: true });
        const q = await measureRendition(p, join(work, 'streams', `${name}.mp4`), src, lr, o);
        if (q.frames !== src.frames) throw new Error(`${name}: measured ${q.frames} frames, the source has ${src.frames}`);
        const row: RdRow = {
          pipeline: p.id,
          crf,
          bytes: size.payloadBytes,
          file_bytes: size.fileBytes,
          bitrate_kbps: (size.payloadBytes * 8) / duration / 1000,
          width: lr.width,
          height: lr.height,
          psnr_y: q.psnr_y,
          psnr_u: q.psnr_u,
          psnr_v: q.psnr_v,
          psnr_yuv: q.psnr_yuv,
          ssim_y: q.ssim_y,
          ssim_all: q.ssim_all,
          vmaf: q.vmaf,
          vmaf_p5: q.vmaf_p5,
          file: `streams/${name}.mp4`,
        };
        rows.push(row);
        log(`  crf ${crf}: ${row.bitrate_kbps.toFixed(1)} kbit/s, PSNR-Y ${row.psnr_y.toFixed(2)} dB, SSIM-Y ${row.ssim_y.toFixed(4)}${fmtVmaf(row)}`);
      }
    }
    const bd = fullTables(rows, ids, hull, 'psnr_y');
    const low = lowTables(rows, ids, hull, 'psnr_y');
    const targetKbps = o.cropKbps ?? cropTarget(rows);
    const renditions = Object.fromEntries(Object.entries(nearestRenditions(rows, targetKbps)).map(([id, r]) => [id, { crf: r.crf, bitrate_kbps: r.bitrate_kbps }]));
    log(`crops at about ${targetKbps.toFixed(0)} kbit/s: ${Object.entries(renditions).map(([id, r]) => `${id} crf ${r.crf}`).join(', ')}`);
    const crops = await makeCrops({ src, pipelines: o.pipelines, lrs, targetKbps, renditions, streamDir: join(work, 'streams'), outDir: join(work, 'crops') });
    const report: CompareReport = {
      tool: 'hcd compare',
      created: new Date().toISOString(),
      input: { path: o.input, start: o.start ?? 0, width: src.width, height: src.height, original_width: src.original.width, original_height: src.original.height, fps: src.fps, frames: src.frames, seconds: duration },
      x264: describeX264(x264),
      metrics: {
        where: 'on the displayed picture: each pipeline\'s output at the source size as BT.709 RGB, and the source decoded the same way, both taken to BT.709 YCbCr 4:4:4',
        psnr: 'ffmpeg psnr filter; mean over frames of per-frame PSNR from per-plane MSE (peak 255, capped at 100 dB); psnr_yuv = (6Y+U+V)/8',
        ssim: 'ffmpeg ssim filter (8x8 blocks), mean over frames',
        bitrate: 'sum of the H.264 packet sizes in the MP4 (ffprobe) * 8 / (frames / fps); file_bytes is the whole MP4',
        vmaf: 'ffmpeg libvmaf filter on the same 4:4:4 pictures (VMAF reads their Y plane) at the source size; vmaf is the mean of the per-frame scores, vmaf_p5 their 5th percentile',
      },
      vmaf: (o.vmaf ?? VMAF_NOT_GIVEN).report,
      bd: {
        metric: 'psnr_y',
        method: 'pchip',
        source_anchor: 'A',
        hull_anchor: hull,
        hull_missing: hullMissing,
        hull: 'bd_rate_vs_hull is against the best of the hull_anchor pipelines at each quality: the lower envelope of their pchip log-rate curves (bdRateVsBest)',
        hull_crfs: o.hullCrfs ?? [],
        low_range: "bd_rate_vs_hull_low integrates over the qualities of each pipeline's lower-rate half of points (bd_low_range), clipped to the hull's range",
      },
      pipelines: o.pipelines.map((p) => ({ id: p.id, label: p.label, kind: p.kind, scale: p.scale, lr_width: lrs.get(p.id)!.width, lr_height: lrs.get(p.id)!.height })),
      points: rows,
      bd_rate_vs_source: bd.vsSource,
      bd_rate_vs_hull: bd.vsHull,
      bd_rate_vs_hull_low: low.vsHullLow,
      bd_low_range: Object.fromEntries(Object.entries(low.ranges).map(([id, r]) => [id, { kbps: r.kbps, psnr_y: r.q }])),
      hull_gap_share: low.gaps,
      bd_psnr_vs_source: bd.psnrVsSource,
      bd_rate_between: between(rows, ids),
      bd_rate_other_metrics: otherMetrics(rows, ids, hull),
      crops,
    };
    await publish(work, o.outDir, report);
    return report;
  } finally {
    for (const p of o.pipelines) if (p.kind === 'frames') await p.close?.();
    await rm(work, { recursive: true, force: true });
  }
}

/** Groups a frame stream into arrays of `n` (the last may be shorter). */
async function* chunked(frames: AsyncIterable<Uint8Array>, n: number): AsyncGenerator<Uint8Array[]> {
  let buf: Uint8Array[] = [];
  for await (const f of frames) {
    buf.push(f);
    if (buf.length === n) {
      yield buf;
      buf = [];
    }
  }
  if (buf.length) yield buf;
}

/**
 * The LR video one rate point encodes for a pipeline with a per-rate step (E): the shared LR
 * frames, re-optimized one keyframe interval at a time through a roundtrip that takes exactly
 * the path of the real encode (RGB -> BT.709 4:2:0 y4m -> x264 at this CRF -> decode to RGB).
 * An interval is an independent closed GOP, so encoding it alone costs no accuracy to speak of.
 */
async function refineAt(p: FramePipeline, src: SourceInfo, lr: Size, lrPath: string, crf: number, x264: X264Settings, work: string): Promise<string> {
  const refine = p.refine!;
  const out = join(work, `${p.id}-lr-crf${crf}.y4m`);
  const tmpY4m = join(work, `${p.id}-roundtrip.y4m`);
  const tmpMp4 = join(work, `${p.id}-roundtrip.mp4`);
  const roundtrip = async (frames: Uint8Array[]): Promise<{ frames: Uint8Array[]; bytes: number }> => {
    await ffmpegWithFrames([...rawRgbInput(lr.width, lr.height, src.fps), '-vf', RGB_TO_YUV709, '-f', 'yuv4mpegpipe', fileArg(tmpY4m)], frames);
    const size = await encodeX264(tmpY4m, crf, tmpMp4, x264);
    const back: Uint8Array[] = [];
    for await (const f of readFrames(tmpMp4, { width: lr.width, height: lr.height })) back.push(f);
    return { frames: back, bytes: size.payloadBytes };
  };
  async function* refined(): AsyncGenerator<Uint8Array> {
    const sources = chunked(readFrames(src.path, { width: src.width, height: src.height }), x264.keyint);
    for await (const lrChunk of chunked(readFrames(lrPath, { width: lr.width, height: lr.height }), x264.keyint)) {
      const next = await sources.next();
      if (next.done || next.value.length !== lrChunk.length) throw new Error(`${p.id}: the LR video and the source differ in length`);
      yield* await refine({ source: next.value, lr: lrChunk, size: lr, roundtrip, crf });
    }
  }
  await ffmpegWithFrames([...rawRgbInput(lr.width, lr.height, src.fps), '-vf', RGB_TO_YUV709, '-f', 'yuv4mpegpipe', fileArg(out)], refined());
  await rm(tmpY4m, { force: true });
  await rm(tmpMp4, { force: true });
  return out;
}

/** Writes the report files into the work folder, then moves everything into `outDir`. */
async function publish(work: string, outDir: string, report: CompareReport): Promise<void> {
  await writeReports(work, report);
  for (const name of ['streams', 'crops']) {
    await rm(join(outDir, name), { recursive: true, force: true });
    await rename(join(work, name), join(outDir, name));
  }
  for (const name of ['rd.svg', 'report.csv', 'report.html', 'report.json']) await rename(join(work, name), join(outDir, name));
}
