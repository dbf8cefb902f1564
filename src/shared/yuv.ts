/**
 * The one YUV 4:2:0 <-> RGB conversion that both sides of the system use: the encoder when it
 * reads back a decoded rendition to optimize against, and the player when it feeds a decoded
 * frame to the upscaler. If the two converted differently, the encoder would optimize for
 * pixels the player never sees. No Node or DOM imports.
 *
 * Matrix: BT.709, limited ("TV") range: Y 16-235, Cb/Cr 16-240 around 128.
 *
 * Chroma upsampling rule (documented because it is part of the contract): bilinear, with the
 * MPEG-2 / H.264 default siting ("left"): a chroma sample sits horizontally ON luma column 2i and
 * vertically halfway between luma rows 2j and 2j+1. So for luma (x, y) the chroma position is
 * (x / 2, y / 2 - 0.25): even columns take one chroma column, odd columns the mean of two
 * neighbours; rows mix the nearest chroma row 3:1 with the one above (even y) or below (odd y).
 * Positions outside the plane are clamped to its edge.
 */

/**
 * BT.709 luma coefficients (ITU-R BT.709-6, item 3.2): the one table every conversion in the
 * project reads, on both sides. KG is 1 - KR - KB as the standard defines it; in doubles that is
 * exactly 0.7152, so code that uses these and the literals gives bit-identical results.
 */
export const BT709 = Object.freeze({ KR: 0.2126, KG: 1 - 0.2126 - 0.0722, KB: 0.0722 });

const { KR, KG, KB } = BT709;
const YS = 255 / 219;
const CS = 255 / 224;
/** RGB = YS*(Y-16) + coefficients times (Cb-128), (Cr-128), on the 0-255 scale. */
const R_CR = CS * 2 * (1 - KR);
const B_CB = CS * 2 * (1 - KB);
const G_CB = (-CS * 2 * (1 - KB) * KB) / KG;
const G_CR = (-CS * 2 * (1 - KR) * KR) / KG;

export interface I420Layout {
  /** Bytes between rows of the Y plane; `width` if omitted. */
  yStride?: number;
  /** Bytes between rows of the U and V planes; ceil(width/2) if omitted. */
  uvStride?: number;
}

export interface I420ToRgbOptions extends I420Layout {
  /** Factor applied to the 0-255 result: 1/255 gives 0-1 (the default), 1 gives 0-255. */
  scale?: number;
}

export interface I420Planes {
  width: number;
  height: number;
  y: Uint8Array;
  u: Uint8Array;
  v: Uint8Array;
}

type Bytes = Uint8Array | Uint8ClampedArray;

/** Chroma plane size for a luma size: 4:2:0 rounds odd sizes up. */
export function chromaSize(width: number, height: number): { cw: number; ch: number } {
  return { cw: (width + 1) >> 1, ch: (height + 1) >> 1 };
}

/**
 * I420 planes to a planar 1x3xHxW float tensor (R, G, B planes), clamped to 0-255 before scaling,
 * not rounded (the network sees what an ideal decoder would show, at full precision).
 * `out` is reused by the player for every frame: no allocation here apart from two row buffers.
 */
export function i420ToPlanarRgb(
  y: Bytes,
  u: Bytes,
  v: Bytes,
  width: number,
  height: number,
  out: Float32Array,
  opts: I420ToRgbOptions = {},
): Float32Array {
  const scale = opts.scale ?? 1 / 255;
  const { cw, ch } = chromaSize(width, height);
  const ys = opts.yStride ?? width;
  const cs = opts.uvStride ?? cw;
  const n = width * height;
  if (out.length < 3 * n) throw new Error(`i420ToPlanarRgb: output holds ${out.length} values, needs ${3 * n}`);
  if (y.length < ys * (height - 1) + width) throw new Error(`i420ToPlanarRgb: Y plane holds ${y.length} bytes, too few for ${width}x${height}`);
  const cNeed = cs * (ch - 1) + cw;
  if (u.length < cNeed || v.length < cNeed) throw new Error(`i420ToPlanarRgb: chroma planes too small for ${width}x${height}`);

  const lo = 0;
  const hi = 255 * scale;
  // chroma rows interpolated vertically for the current luma row
  const ur = new Float32Array(cw);
  const vr = new Float32Array(cw);
  for (let row = 0; row < height; row++) {
    const j = row >> 1;
    const other = row & 1 ? Math.min(j + 1, ch - 1) : Math.max(j - 1, 0);
    const a = j * cs;
    const b = other * cs;
    for (let i = 0; i < cw; i++) {
      ur[i] = 0.75 * u[a + i] + 0.25 * u[b + i] - 128;
      vr[i] = 0.75 * v[a + i] + 0.25 * v[b + i] - 128;
    }
    const yo = row * ys;
    const o = row * width;
    for (let x = 0; x < width; x++) {
      const i = x >> 1;
      let cb: number;
      let cr: number;
      if (x & 1) {
        const k = i + 1 < cw ? i + 1 : i;
        cb = 0.5 * (ur[i] + ur[k]);
        cr = 0.5 * (vr[i] + vr[k]);
      } else {
        cb = ur[i];
        cr = vr[i];
      }
      const l = YS * (y[yo + x] - 16);
      let r = (l + R_CR * cr) * scale;
      let g = (l + G_CB * cb + G_CR * cr) * scale;
      let bl = (l + B_CB * cb) * scale;
      r = r < lo ? lo : r > hi ? hi : r;
      g = g < lo ? lo : g > hi ? hi : g;
      bl = bl < lo ? lo : bl > hi ? hi : bl;
      out[o + x] = r;
      out[n + o + x] = g;
      out[2 * n + o + x] = bl;
    }
  }
  return out;
}

const round8 = (v: number): number => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));

/**
 * A planar RGB tensor back to I420 with the same matrix and siting: chroma is filtered
 * [1 2 1]/4 horizontally around its column 2i (left siting) and averaged over rows 2j, 2j+1.
 * `scale` maps the tensor's values to 0-255 (255 for a 0-1 tensor).
 */
export function planarRgbToI420(rgb: Float32Array, width: number, height: number, opts: { scale?: number } = {}): I420Planes {
  const scale = opts.scale ?? 255;
  const n = width * height;
  if (rgb.length < 3 * n) throw new Error(`planarRgbToI420: input holds ${rgb.length} values, needs ${3 * n}`);
  const { cw, ch } = chromaSize(width, height);
  const yp = new Uint8Array(n);
  const cbFull = new Float32Array(n);
  const crFull = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = rgb[i] * scale;
    const g = rgb[n + i] * scale;
    const b = rgb[2 * n + i] * scale;
    const ey = (KR * r + KG * g + KB * b) / 255;
    yp[i] = round8(16 + 219 * ey);
    cbFull[i] = (224 * (b / 255 - ey)) / (2 * (1 - KB));
    crFull[i] = (224 * (r / 255 - ey)) / (2 * (1 - KR));
  }
  const u = new Uint8Array(cw * ch);
  const v = new Uint8Array(cw * ch);
  for (let j = 0; j < ch; j++) {
    const r0 = 2 * j;
    const r1 = Math.min(2 * j + 1, height - 1);
    for (let i = 0; i < cw; i++) {
      const x = 2 * i;
      const xl = Math.max(x - 1, 0);
      const xr = Math.min(x + 1, width - 1);
      let cb = 0;
      let cr = 0;
      for (const rr of [r0, r1]) {
        const o = rr * width;
        cb += 0.25 * cbFull[o + xl] + 0.5 * cbFull[o + x] + 0.25 * cbFull[o + xr];
        cr += 0.25 * crFull[o + xl] + 0.5 * crFull[o + x] + 0.25 * crFull[o + xr];
      }
      u[j * cw + i] = round8(128 + cb / 2);
      v[j * cw + i] = round8(128 + cr / 2);
    }
  }
  return { width, height, y: yp, u, v };
}

/** Splits a tightly packed I420 buffer (as `ffmpeg -pix_fmt yuv420p -f rawvideo` writes) into planes. */
export function splitI420(buf: Bytes, width: number, height: number): I420Planes {
  const { cw, ch } = chromaSize(width, height);
  const ny = width * height;
  const nc = cw * ch;
  if (buf.length < ny + 2 * nc) throw new Error(`splitI420: buffer holds ${buf.length} bytes, needs ${ny + 2 * nc}`);
  const u8 = buf instanceof Uint8Array ? buf : new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  return { width, height, y: u8.subarray(0, ny), u: u8.subarray(ny, ny + nc), v: u8.subarray(ny + nc, ny + 2 * nc) };
}

/** Bytes of one tightly packed I420 frame. */
export function i420FrameBytes(width: number, height: number): number {
  const { cw, ch } = chromaSize(width, height);
  return width * height + 2 * cw * ch;
}
