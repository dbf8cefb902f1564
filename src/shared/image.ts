/**
 * Pixels and tensors. Frames travel as packed 8-bit RGB (what ffmpeg pipes and canvases give);
 * networks take planar NCHW float tensors in 0-1. Both the encoder and the player convert here,
 * so the two sides see the same numbers.
 */
export interface RgbImage {
  width: number;
  height: number;
  /** Packed RGB, 3 bytes per pixel, row-major. */
  data: Uint8Array;
}

/** A planar 1x3xHxW float image in 0-1. */
export interface Planar {
  data: Float32Array;
  width: number;
  height: number;
}

/** Packed RGB(A) bytes to a planar 1x3xHxW tensor scaled by `scale` (1/255 gives 0-1). */
export function packedToPlanar(
  src: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  opts: { channels?: 3 | 4; scale?: number; out?: Float32Array } = {},
): Float32Array {
  const ch = opts.channels ?? 3;
  const scale = opts.scale ?? 1 / 255;
  const n = width * height;
  const out = opts.out ?? new Float32Array(3 * n);
  if (out.length < 3 * n) throw new Error(`tensor buffer holds ${out.length} values, needs ${3 * n}`);
  for (let i = 0, j = 0; i < n; i++, j += ch) {
    out[i] = src[j] * scale;
    out[n + i] = src[j + 1] * scale;
    out[2 * n + i] = src[j + 2] * scale;
  }
  return out;
}

/** A planar 1x3xHxW tensor back to packed RGB(A) bytes, rounded and clamped to 0-255. */
export function planarToPacked(
  t: Float32Array,
  width: number,
  height: number,
  opts: { channels?: 3 | 4; scale?: number; out?: Uint8Array | Uint8ClampedArray } = {},
): Uint8Array | Uint8ClampedArray {
  const ch = opts.channels ?? 3;
  const scale = opts.scale ?? 255;
  const n = width * height;
  const out = opts.out ?? new Uint8Array(ch * n);
  // Math.round(v) is floor(v + 0.5); `| 0` floors once v is known to be in range. This loop
  // runs on every frame the encoder and the ladder probe upscale, where Math.round per channel
  // made it the heaviest JavaScript of a probe.
  const level = (v: number): number => {
    const x = v * scale + 0.5;
    return x <= 0 ? 0 : x >= 255 ? 255 : x | 0;
  };
  for (let i = 0, j = 0; i < n; i++, j += ch) {
    out[j] = level(t[i]);
    out[j + 1] = level(t[n + i]);
    out[j + 2] = level(t[2 * n + i]);
    if (ch === 4) out[j + 3] = 255;
  }
  return out;
}

export function imageToTensor(img: RgbImage, scale = 1 / 255): Float32Array {
  return packedToPlanar(img.data, img.width, img.height, { scale });
}

export function tensorToImage(t: Float32Array, width: number, height: number, scale = 255): RgbImage {
  return { width, height, data: planarToPacked(t, width, height, { scale }) as Uint8Array };
}

/**
 * Rounds 0-1 floats to the 8-bit levels an LR rendition stores, clamped. It rounds like
 * planarToPacked (Math.round), so the LR written to PNG or piped to the video encoder is exactly
 * this; ONNX Round (ties to even) differs only at exact .5 ties.
 */
export function quantize8(a: Float32Array, out: Float32Array = a): Float32Array {
  for (let i = 0; i < a.length; i++) {
    const v = a[i] <= 0 ? 0 : a[i] >= 1 ? 1 : a[i];
    out[i] = Math.round(v * 255) / 255;
  }
  return out;
}
