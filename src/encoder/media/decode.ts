import type { Readable } from 'node:stream';
import { fluent } from './ffmpeg.js';

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
  const frameBytes = opts.width * opts.height * 3;
  const matrix = opts.matrix ?? 'bt709';
  const filters: string[] = [];
  if (opts.filter) filters.push(opts.filter);
  filters.push(
    `scale=${opts.width}:${opts.height}:flags=bicubic+accurate_rnd+full_chroma_int:in_color_matrix=${matrix}:in_range=${opts.range ?? 'tv'}`,
    'format=rgb24',
  );
  const cmd = fluent(input).noAudio().videoFilters(filters.join(',')).outputOptions(['-f', 'rawvideo', '-pix_fmt', 'rgb24']);
  if (opts.seconds !== undefined) cmd.duration(opts.seconds);
  // a truncated or damaged file otherwise decodes "successfully" to fewer frames
  if (opts.strict) cmd.outputOptions(['-xerror']);
  if (opts.passthrough) cmd.outputOptions(['-vsync', 'passthrough']);

  let failure: Error | undefined;
  cmd.on('error', (err: Error) => {
    // fluent-ffmpeg reports a kill we caused ourselves as an error too
    if (!/SIGKILL|SIGTERM/.test(err.message)) failure = err;
  });
  const stream = cmd.pipe() as Readable;
  // pipe chunks (64 KB) are collected and joined once per frame: joining on every chunk would
  // copy a 1080p frame ~100 times over
  let parts: Buffer[] = [];
  let have = 0;
  let finished = false;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      parts.push(chunk);
      have += chunk.length;
      if (have < frameBytes) continue;
      let pending = Buffer.concat(parts, have);
      while (pending.length >= frameBytes) {
        yield new Uint8Array(pending.buffer.slice(pending.byteOffset, pending.byteOffset + frameBytes));
        pending = pending.subarray(frameBytes);
      }
      parts = pending.length ? [pending] : [];
      have = pending.length;
    }
    finished = true;
  } finally {
    if (!finished) cmd.kill('SIGKILL');
  }
  // 'error' may arrive just after the stream ends
  await new Promise((r) => setImmediate(r));
  if (failure) throw new Error(`decoding ${input} failed: ${failure.message.split('\n')[0]}`);
}
