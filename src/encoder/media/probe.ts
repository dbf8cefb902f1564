import { existsSync, statSync } from 'node:fs';
import { HcdError } from '../../shared/errors.js';
import { ffmpegPath, probe, ToolError } from './ffmpeg.js';

export interface SourceInfo {
  path: string;
  width: number;
  height: number;
  /** Frame rate as a fraction, kept exact for -framerate and segment lengths. */
  fpsNum: number;
  fpsDen: number;
  /** Frames the container promises (nb_frames), or an estimate from the duration; 0 when unknown. */
  frames: number;
  framesExact: boolean;
  duration: number;
  hasAudio: boolean;
  /** The YUV matrix and range the source's RGB should be read with. */
  matrix: 'bt709' | 'bt601';
  range: 'tv' | 'pc';
}

function parseRate(r: string | undefined): [number, number] | undefined {
  if (!r) return undefined;
  const [n, d] = r.split('/').map(Number);
  if (!(n > 0) || !(d > 0)) return undefined;
  return [n, d];
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
  const rate = parseRate(v.avg_frame_rate) ?? parseRate(v.r_frame_rate);
  if (!rate) throw new HcdError(`cannot tell the frame rate of ${path}`);
  const duration = Number(v.duration ?? info.format.duration ?? 0) || 0;
  const nb = Number(v.nb_frames ?? 0) || 0;
  const frames = nb > 0 ? nb : Math.round((duration * rate[0]) / rate[1]);
  const cs = v.color_space ?? '';
  return {
    path,
    width: v.width ?? 0,
    height: v.height ?? 0,
    fpsNum: rate[0],
    fpsDen: rate[1],
    frames,
    framesExact: nb > 0,
    duration,
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
