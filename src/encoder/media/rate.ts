import type { ProbeResult, ProbeStream } from './ffprobe.js';

/** A frame rate as an exact fraction, as ffmpeg's `-r` and `-framerate` take it. */
export interface Rate {
  num: number;
  den: number;
}

/** The highest nominal rate believed: above it, r_frame_rate is more likely a clock than a frame rate. */
export const MAX_NOMINAL_FPS = 60;

export function parseRate(r: string | undefined): Rate | undefined {
  if (!r) return undefined;
  const [num, den] = r.split('/').map(Number);
  if (!(num > 0) || !(den > 0)) return undefined;
  return { num, den };
}

export const rateValue = (r: Rate): number => r.num / r.den;
export const rateText = (r: Rate): string => `${r.num}/${r.den}`;

const sameRate = (a: Rate, b: Rate): boolean => a.num * b.den === b.num * a.den;

/**
 * A nominal rate of exactly twice the average is a field rate (interlaced video, or H.264's two
 * ticks per frame), not a rate any frames come at: the frames are the average's, and constant.
 */
const isFieldRate = (nominal: Rate, average: Rate): boolean => sameRate(nominal, { num: 2 * average.num, den: average.den });

/**
 * Policy: the one constant rate a source is read at, and tagged with downstream. Phones record
 * variable-rate video, which ffmpeg turns into constant-rate frames by repeating and dropping;
 * the rate chosen here only decides how finely the source's timing is kept, never its length.
 *
 * The nominal rate (r_frame_rate) when it is plausible: at most MAX_NOMINAL_FPS, not a field
 * rate, and room for every frame (r >= average - 1/duration: the index may give the last frame
 * no duration, which puts a short clip's average a frame above its nominal rate). A nominal rate
 * above that is usually a clock (the 150 of a 30 + 25 fps mix, a container's 90 kHz), and one
 * below the average would drop frames all along: then the average rate (avg_frame_rate), which
 * keeps the frame count. A constant-rate source has both equal, so nothing changes for it.
 */
export function readingRate(nominal: Rate | undefined, average: Rate | undefined, duration: number): Rate | undefined {
  if (!nominal || !average) return nominal ?? average;
  const slack = duration > 0 ? 1 / duration : 0;
  const r = rateValue(nominal);
  const plausible = r <= MAX_NOMINAL_FPS && r >= rateValue(average) - slack - 1e-9 && !isFieldRate(nominal, average);
  return plausible ? nominal : average;
}

/**
 * The frames at `rate` that start within the first `seconds` (at least one): what ffmpeg's `-t`
 * keeps of a constant-rate source, counted so for any source.
 */
export const framesWithin = (seconds: number, rate: Rate): number => Math.max(1, Math.ceil(seconds * rateValue(rate) - 1e-6));

/** How a video stream is read: at which rate, into how many frames. */
export interface VideoTiming {
  rate: Rate;
  /** The nominal and average rates differ (but for a field rate): the timestamps are not those of one constant rate. */
  variable: boolean;
  /** The container's frame count (nb_frames), 0 when it gives none. */
  sourceFrames: number;
  /** Frames read at `rate`; an estimate from the duration when the container does not say. */
  frames: number;
}

/**
 * Where the video ends on the file's clock, from its start. With more than one stream ffmpeg's
 * constant-rate output starts at the file's start, repeating the first frame until the video's.
 */
function videoEnd(v: ProbeStream, info: ProbeResult): number {
  const duration = Number(v.duration ?? info.format.duration ?? 0) || 0;
  if (info.streams.length < 2) return duration;
  const lead = (Number(v.start_time) || 0) - (Number(info.format.start_time) || 0);
  return duration + Math.max(0, lead);
}

/**
 * A constant-rate source gives the container's count, as it always has. A variable-rate one gives
 * the frames its length fills at the reading rate, never fewer than it has (a last frame with
 * no duration still shows once).
 */
export function videoTiming(v: ProbeStream, info: ProbeResult): VideoTiming | undefined {
  const nominal = parseRate(v.r_frame_rate);
  const average = parseRate(v.avg_frame_rate);
  const duration = Number(v.duration ?? info.format.duration ?? 0) || 0;
  const rate = readingRate(nominal, average, duration);
  if (!rate) return undefined;
  const variable = !!nominal && !!average && !sameRate(nominal, average) && !isFieldRate(nominal, average);
  const sourceFrames = Number(v.nb_frames ?? 0) || 0;
  const filled = Math.round(videoEnd(v, info) * rateValue(rate));
  const frames = variable ? Math.max(filled, sourceFrames) : sourceFrames || Math.round(duration * rateValue(rate));
  return { rate, variable, sourceFrames, frames };
}
