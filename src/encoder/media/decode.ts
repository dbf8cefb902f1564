import { ffmpegFrames, fileArg, ToolError } from './ffmpeg.js';
import { yuvToRgb } from './colour.js';

export interface DecodeOptions {
  /** Output size; the source size if omitted (then width and height must be given by the caller's probe). */
  width: number;
  height: number;
  /** Seconds to read from the start; all if omitted. */
  seconds?: number;
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

/**
 * Decodes a video to packed RGB24 frames through a pipe: no temporary image per frame.
 * Yields one Uint8Array of width*height*3 bytes per frame.
 */
export async function* readFrames(input: string, opts: DecodeOptions): AsyncGenerator<Uint8Array> {
  const filters = [opts.filter, yuvToRgb(opts)].filter(Boolean).join(',');
  const args = ['-v', 'error', '-i', fileArg(input), '-an', '-filter:v', filters, '-f', 'rawvideo', '-pix_fmt', 'rgb24'];
  if (opts.seconds !== undefined) args.push('-t', String(opts.seconds));
  // a truncated or damaged file otherwise decodes "successfully" to fewer frames
  if (opts.strict) args.push('-xerror');
  if (opts.passthrough) args.push('-vsync', 'passthrough');
  args.push('pipe:1');
  try {
    yield* ffmpegFrames(args, opts.width * opts.height * 3);
  } catch (e) {
    if (e instanceof ToolError) throw e;
    throw new Error(`decoding ${input} failed: ${(e as Error).message.split('\n')[0]}`);
  }
}
