import { existsSync, statSync } from 'node:fs';
import { HcdError } from '../../shared/errors.js';
import { ffmpegPath, probe, ToolError } from './ffmpeg.js';
import { videoTiming } from './rate.js';

export interface SourceInfo {
  path: string;
  width: number;
  height: number;
  /**
   * The constant rate the frames are read at (readingRate in ./rate.ts), as a fraction, kept exact
   * for -r, -framerate and segment lengths.
   */
  fpsNum: number;
  fpsDen: number;
  /**
   * Frames read at that rate: the container's count (nb_frames) for constant-rate input, the
   * frames its length fills for variable-rate input; an estimate from the duration when the
   * container gives no count; 0 when unknown.
   */
  frames: number;
  /** The container gives its frame count, so `frames` is known rather than estimated. */
  framesExact: boolean;
  /** Variable-rate timestamps, read by repeating and dropping frames: see VideoTiming. */
  variable: boolean;
  /** The container's frame count (nb_frames), 0 when it gives none. */
  sourceFrames: number;
  duration: number;
  /**
   * Whether a frame of the reading rate can be reached by seeking to its time: constant-rate
   * video whose first frame is at the container's time 0 (the reading rate then maps frame n to
   * n / rate exactly). Otherwise a chunk's frames are reached by decoding from the start.
   */
  seekable: boolean;
  hasAudio: boolean;
  /** The YUV matrix and range the source's RGB should be read with. */
  matrix: 'bt709' | 'bt601';
  range: 'tv' | 'pc';
}

/**
 * Probes INPUT and turns every way it can be unusable into one clear line. ffmpeg is checked here
 * too: every later step needs it, and a binary that cannot run must not pass for a bad input.
 */
export async function probeSource(path: string): Promise<SourceInfo> {
  if (!existsSync(path)) throw new HcdError(`input not found: ${path}`);
  if (!statSync(path).isFile()) throw new HcdError(`input is not a file: ${path}`);
  ffmpegPath();
  let info;
  try {
    info = await probe(path);
  } catch (e) {
    if (e instanceof ToolError) throw e;
    throw new HcdError(`not a video file: ${path} (ffprobe cannot read it)`);
  }
  const v = info.streams.find((s) => s.codec_type === 'video' && (s.width ?? 0) > 0);
  if (!v) throw new HcdError(`no video stream in ${path}`);
  const timing = videoTiming(v, info);
  if (!timing) throw new HcdError(`cannot tell the frame rate of ${path}`);
  const cs = v.color_space ?? '';
  return {
    path,
    width: v.width ?? 0,
    height: v.height ?? 0,
    fpsNum: timing.rate.num,
    fpsDen: timing.rate.den,
    frames: timing.frames,
    framesExact: timing.sourceFrames > 0,
    variable: timing.variable,
    sourceFrames: timing.sourceFrames,
    duration: Number(v.duration ?? info.format.duration ?? 0) || 0,
    seekable: !timing.variable && Number(v.start_time ?? 0) === 0 && Number(info.format.start_time ?? 0) === 0,
    hasAudio: info.streams.some((s) => s.codec_type === 'audio'),
    matrix: /bt470bg|smpte170m|bt601/.test(cs) ? 'bt601' : 'bt709',
    range: v.color_range === 'pc' || /^yuvj/.test(v.pix_fmt ?? '') ? 'pc' : 'tv',
  };
}

export interface FrameGeometry {
  width: number;
  height: number;
  /** ffmpeg crop filter, or undefined when the frame already fits. */
  crop?: string;
}

/**
 * Policy: crop the right and bottom remainder so that the HR frame is a multiple of 2*scale.
 * The LR frame is then a multiple of 2, which 4:2:0 chroma needs. Cropping (not padding) keeps
 * every pixel a real one: padding would spend bits on a border the player then upscales.
 */
export function fitToScale(width: number, height: number, scale: number): FrameGeometry {
  const m = 2 * scale;
  const w = width - (width % m);
  const h = height - (height % m);
  return { width: w, height: h, crop: w === width && h === height ? undefined : `crop=${w}:${h}:0:0` };
}
