import { stat } from 'node:fs/promises';
import { fileArg, runFfmpeg, probe } from '../encoder/media/ffmpeg.js';
import { framesWithin, rateText, rateValue, videoTiming, type VideoTiming } from '../encoder/media/rate.js';
import { HcdError } from '../shared/errors.js';
import type { Size } from './types.js';

export interface SourceInfo extends Size {
  /** The y4m (yuv420p) every pipeline starts from and is measured against. */
  path: string;
  /** Frame rate as ffmpeg writes it ("24/1", "30000/1001"). */
  fps: string;
  fpsValue: number;
  frames: number;
  /** The input's own size, before cropping to a multiple of what the scales need. */
  original: Size;
}

/**
 * Frames to write at most, as the encoder counts them (job/open.ts): --seconds' worth at the
 * reading rate, and no more than a variable-rate source's length fills.
 */
function frameLimit(t: VideoTiming, opts: { seconds?: number; start?: number }): number | undefined {
  const bySeconds = opts.seconds !== undefined ? framesWithin(opts.seconds, t.rate) : Infinity;
  const byLength = t.variable && t.sourceFrames > 0 && !opts.start ? t.frames : Infinity;
  const limit = Math.min(bySeconds, byLength);
  return Number.isFinite(limit) ? limit : undefined;
}

/**
 * Decodes `seconds` of the input (from `start`, default 0) once into a lossless yuv420p y4m, cropped (top-left
 * kept) so that width and height divide by `multiple`: every downscaled size is then whole and
 * even, and all pipelines see exactly the same reference.
 */
export async function prepareSource(input: string, out: string, opts: { seconds?: number; start?: number; multiple: number }): Promise<SourceInfo> {
  const info = await probe(input);
  const v = info.streams.find((s) => s.codec_type === 'video');
  if (!v?.width || !v.height) throw new HcdError(`${input} has no video stream`);
  // the encoder's policy (readingRate), so that both read the same frames over the same time
  const timing = videoTiming(v, info);
  if (!timing) throw new HcdError(`${input}: cannot tell the frame rate`);
  const fps = rateText(timing.rate);
  const fpsValue = rateValue(timing.rate);
  const limit = frameLimit(timing, opts);
  const length = Number(info.format.duration ?? v.duration ?? NaN);
  if (opts.start && Number.isFinite(length) && opts.start >= length) throw new HcdError(`--start ${opts.start} is past the end of ${input} (${length.toFixed(2)} s)`);
  const m = opts.multiple;
  const width = Math.floor(v.width / m) * m;
  const height = Math.floor(v.height / m) * m;
  if (width === 0 || height === 0) throw new HcdError(`${input} is ${v.width}x${v.height}, too small for the sizes compared (they need a multiple of ${m})`);
  await runFfmpeg([
    ...(opts.start ? ['-ss', String(opts.start)] : []),
    '-i', fileArg(input),
    '-map', '0:v:0', '-an',
    '-vf', `crop=${width}:${height}:0:0,format=yuv420p`,
    '-r', fps,
    ...(limit !== undefined ? ['-frames:v', String(limit)] : []),
    '-f', 'yuv4mpegpipe', fileArg(out),
  ]);
  if ((await stat(out)).size < 100) throw new HcdError(`${input}: no frames decoded in the chosen range`);
  const counted = await probe(out, { countFrames: true });
  const frames = Number(counted.streams[0]?.nb_read_frames ?? 0);
  if (!(frames > 0)) throw new HcdError(`${input}: no frames decoded`);
  return { path: out, width, height, fps, fpsValue, frames, original: { width: v.width, height: v.height } };
}
