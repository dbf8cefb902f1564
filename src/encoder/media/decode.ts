import { ffmpegFrames, fileArg, ToolError } from './ffmpeg.js';
import { yuvToRgb } from './colour.js';

export interface DecodeOptions {
  /** Output size; the source size if omitted (then width and height must be given by the caller's probe). */
  width: number;
  height: number;
  /** Seconds to read from the start; all if omitted. */
  seconds?: number;
  /**
   * Seconds into the input to start at, by input seeking (fast, to the nearest frame ffmpeg
   * finds): for samples of a title, not for frames that must line up with an encode.
   */
  start?: number;
  /**
   * Read at this constant rate ("30/1"): ffmpeg repeats and drops frames to hold each for as long
   * as its timestamps say. Without it ffmpeg picks a rate itself, which for a variable-rate
   * source need not be the one the frames are later tagged with.
   */
  rate?: string;
  /** At most this many frames (of the output, so at `rate`). */
  frames?: number;
  /**
   * The YUV matrix to convert with. Our own renditions are BT.709 limited range, and the player
   * decodes them that way, so reading them back must use the same matrix.
   */
  matrix?: 'bt709' | 'bt601';
  /** The source's YUV range: 'tv' (limited, the default and what we write) or 'pc' (full, as in yuvj420p). */
  range?: 'tv' | 'pc';
  /** An ffmpeg filter applied before the RGB conversion (for example a crop). */
  filter?: string;
  /** Stop at the first decoding error (`-xerror`) instead of skipping damaged data. */
  strict?: boolean;
  /**
   * Every decoded frame exactly once (`-vsync passthrough`). The default constant-rate output
   * duplicates a frame when another stream starts earlier, as AAC's priming frame does in HLS.
   */
  passthrough?: boolean;
}

/** How a decode that ran to its end got its frames: read from the source, repeated, dropped. */
export interface DecodeReport {
  /** Frames yielded. */
  frames: number;
  repeated: number;
  dropped: number;
}

/** Source frames the decoder took: every frame out is one of them or a repeat, and drops came in too. */
export const sourceFramesRead = (r: DecodeReport): number => r.frames - r.repeated + r.dropped;

/**
 * Decodes a video to packed RGB24 frames through a pipe: no temporary image per frame.
 * Yields one Uint8Array of width*height*3 bytes per frame; returns the report once they end
 * (undefined when stopped early).
 */
export async function* readFrames(input: string, opts: DecodeOptions): AsyncGenerator<Uint8Array, DecodeReport | undefined> {
  const filters = [opts.filter, yuvToRgb(opts)].filter(Boolean).join(',');
  const args = ['-v', 'error', ...(opts.start ? ['-ss', String(opts.start)] : []), '-i', fileArg(input), '-an', '-filter:v', filters, '-f', 'rawvideo', '-pix_fmt', 'rgb24'];
  if (opts.rate !== undefined) args.push('-r', opts.rate);
  if (opts.frames !== undefined) args.push('-frames:v', String(opts.frames));
  if (opts.seconds !== undefined) args.push('-t', String(opts.seconds));
  // a truncated or damaged file otherwise decodes "successfully" to fewer frames
  if (opts.strict) args.push('-xerror');
  if (opts.passthrough) args.push('-vsync', 'passthrough');
  args.push('pipe:1');
  try {
    const p = yield* ffmpegFrames(args, opts.width * opts.height * 3, { progress: true });
    return { frames: Number(p.frame) || 0, repeated: Number(p.dup_frames) || 0, dropped: Number(p.drop_frames) || 0 };
  } catch (e) {
    if (e instanceof ToolError) throw e;
    throw new Error(`decoding ${input} failed: ${(e as Error).message.split('\n')[0]}`);
  }
}
