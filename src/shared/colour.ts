/**
 * BT.709 limited-range ("TV range") YCbCr <-> RGB, the matrix our renditions are tagged with and
 * that browsers and ffmpeg apply when they decode them. Y spans 16-235, Cb/Cr 16-240 around 128.
 * No Node imports: the player uses it too.
 */
import type { Pixels } from './metrics.js';
import { BT709 } from './yuv.js';

const { KR, KG, KB } = BT709;

/** One pixel, 0-255 RGB to limited-range Y, Cb, Cr (unrounded). */
export function rgbToYcbcr709(r: number, g: number, b: number): [number, number, number] {
  const ey = (KR * r + KG * g + KB * b) / 255;
  const epb = (b / 255 - ey) / (2 * (1 - KB));
  const epr = (r / 255 - ey) / (2 * (1 - KR));
  return [16 + 219 * ey, 128 + 224 * epb, 128 + 224 * epr];
}

/** One pixel, limited-range Y, Cb, Cr to 0-255 RGB (unrounded, unclamped). */
export function ycbcr709ToRgb(y: number, cb: number, cr: number): [number, number, number] {
  const ey = (y - 16) / 219;
  const epb = (cb - 128) / 224;
  const epr = (cr - 128) / 224;
  const r = ey + 2 * (1 - KR) * epr;
  const b = ey + 2 * (1 - KB) * epb;
  const g = (ey - KR * r - KB * b) / KG;
  return [r * 255, g * 255, b * 255];
}

export interface YuvPlanes {
  width: number;
  height: number;
  /** Full-resolution planes (4:4:4), values on the 8-bit limited-range scale, unrounded. */
  y: Float32Array;
  cb: Float32Array;
  cr: Float32Array;
}

/** Packed 8-bit RGB(A) to 4:4:4 limited-range BT.709 planes. */
export function rgbToYuv709(src: Pixels, width: number, height: number, channels: 3 | 4 = 3): YuvPlanes {
  const n = width * height;
  if (src.length < n * channels) throw new Error(`rgbToYuv709: input holds ${src.length} bytes, needs ${n * channels}`);
  const y = new Float32Array(n);
  const cb = new Float32Array(n);
  const cr = new Float32Array(n);
  for (let i = 0, j = 0; i < n; i++, j += channels) {
    const p = rgbToYcbcr709(src[j], src[j + 1], src[j + 2]);
    y[i] = p[0];
    cb[i] = p[1];
    cr[i] = p[2];
  }
  return { width, height, y, cb, cr };
}

const clampByte = (v: number): number => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));

/** 4:4:4 limited-range BT.709 planes to packed RGB bytes, rounded and clamped. */
export function yuv709ToRgb(p: YuvPlanes, channels: 3 | 4 = 3): Uint8Array {
  const n = p.width * p.height;
  const out = new Uint8Array(n * channels);
  for (let i = 0, j = 0; i < n; i++, j += channels) {
    const [r, g, b] = ycbcr709ToRgb(p.y[i], p.cb[i], p.cr[i]);
    out[j] = clampByte(r);
    out[j + 1] = clampByte(g);
    out[j + 2] = clampByte(b);
    if (channels === 4) out[j + 3] = 255;
  }
  return out;
}
