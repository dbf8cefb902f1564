/**
 * The colour conversions as ffmpeg filters, each written once. Our renditions are BT.709 limited
 * range, and the player converts them back to RGB with the same matrix (src/shared/yuv.ts), so
 * the encoder must convert both ways exactly like this. x264's output bytes depend on these
 * strings: change one and every rendition changes.
 */

const RGB_SCALE_FLAGS = 'flags=bicubic+accurate_rnd+full_chroma_int';

/** RGB to the BT.709 limited-range 4:2:0 our renditions use. */
export const RGB_TO_YUV709 = `scale=out_color_matrix=bt709:out_range=tv:${RGB_SCALE_FLAGS},format=yuv420p`;

export interface YuvToRgbOptions {
  /** Output size; the input size if omitted. */
  width?: number;
  height?: number;
  /** The source's YUV matrix; BT.709 (what we write) if omitted. */
  matrix?: 'bt709' | 'bt601';
  /** The source's YUV range: 'tv' (limited, the default and what we write) or 'pc' (full, as in yuvj420p). */
  range?: 'tv' | 'pc';
}

/** Decoded YUV to packed RGB24, as readFrames (and a browser) does it; optionally resized on the way. */
export function yuvToRgb(o: YuvToRgbOptions = {}): string {
  const size = o.width !== undefined && o.height !== undefined ? `${o.width}:${o.height}:` : '';
  return `scale=${size}${RGB_SCALE_FLAGS}:in_color_matrix=${o.matrix ?? 'bt709'}:in_range=${o.range ?? 'tv'},format=rgb24`;
}

/** Decoded BT.709 limited-range YUV to RGB at the same size. */
export const YUV709_TO_RGB = yuvToRgb();

/**
 * Displayed RGB to the space we measure in: BT.709 YCbCr 4:4:4. Reference and every pipeline go
 * through the same RGB step, so a pipeline that works on RGB frames (the learned ones) is not
 * charged for colour conversions that the displayed picture does not have; no chroma is thrown
 * away at measurement time.
 */
export const RGB_TO_MEASURED = 'scale=flags=accurate_rnd:out_color_matrix=bt709:out_range=tv,format=yuv444p';
