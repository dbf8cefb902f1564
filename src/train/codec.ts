import { BT709 } from '../shared/yuv.js';
import { attr, convAttrs, type GraphBuilder } from '../encoder/graph/builder.js';

/**
 * A differentiable stand-in for a block-transform codec (JPEG-like), in ops the gradient engine
 * and onnxruntime run: RGB -> YCbCr (1x1 conv), 8x8 orthonormal DCT per plane (stride-8 grouped
 * conv with the 64 basis images), divide by per-coefficient quantizer steps fed as an input
 * tensor, Round (straight-through gradient), multiply back, inverse DCT (grouped 1x1 conv +
 * DepthToSpace CRD), YCbCr -> RGB. No chroma subsampling, no entropy coding, no deblocking:
 * it models the quantization noise only. Images must be a multiple of 8 on both sides.
 */

/** ITU-T T.81 Annex K tables, row = vertical frequency. */
export const JPEG_LUMA = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
  18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100,
  103, 99,
];
export const JPEG_CHROMA = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
  ...Array<number>(32).fill(99),
];

/** Steps per plane-coefficient (Y 64, Cb 64, Cr 64) in 0-1 pixel units, for IJG quality 1-100. */
export function jpegSteps(quality: number): Float32Array {
  const q = Math.min(100, Math.max(1, Math.round(quality)));
  const scale = q < 50 ? 5000 / q : 200 - 2 * q;
  const step = (t: number) => Math.min(255, Math.max(1, Math.floor((t * scale + 50) / 100))) / 255;
  const out = new Float32Array(192);
  for (let k = 0; k < 64; k++) {
    out[k] = step(JPEG_LUMA[k]);
    out[64 + k] = step(JPEG_CHROMA[k]);
    out[128 + k] = step(JPEG_CHROMA[k]);
  }
  return out;
}

/** Steps so fine that the proxy is the identity up to float error: a lossless step. */
export function losslessSteps(): Float32Array {
  return new Float32Array(192).fill(1e-6);
}

/** JFIF full-range YCbCr, with Y centred on 0 as JPEG's level shift does. */
const RGB2YCC = [
  [0.299, 0.587, 0.114],
  [-0.168736, -0.331264, 0.5],
  [0.5, -0.418688, -0.081312],
];

function invert3(m: number[][]): number[][] {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [
    [A / det, -(b * i - c * h) / det, (b * f - c * e) / det],
    [B / det, (a * i - c * g) / det, -(a * f - c * d) / det],
    [C / det, -(a * h - b * g) / det, (a * e - b * d) / det],
  ];
}

/** Orthonormal 8x8 DCT-II basis: basis[k][y*8+x] with k = u*8+v (u vertical). */
export function dctBasis(): Float64Array[] {
  const c = (u: number) => (u === 0 ? Math.SQRT1_2 : 1) / 2;
  const out: Float64Array[] = [];
  for (let u = 0; u < 8; u++)
    for (let v = 0; v < 8; v++) {
      const b = new Float64Array(64);
      for (let y = 0; y < 8; y++)
        for (let x = 0; x < 8; x++) b[y * 8 + x] = c(u) * c(v) * Math.cos(((2 * y + 1) * u * Math.PI) / 16) * Math.cos(((2 * x + 1) * v * Math.PI) / 16);
      out.push(b);
    }
  return out;
}

/**
 * Adds the proxy: `x` [N,3,H,W] RGB 0-1, `steps` [N or 1,192,1,1] quantizer steps -> RGB.
 * Every constant is a fixed initializer (never trained).
 */
export function addCodecProxy(g: GraphBuilder, x: string, steps: string, out?: string): string {
  const fwd = new Float32Array(9);
  RGB2YCC.forEach((row, o) => row.forEach((v, i) => (fwd[o * 3 + i] = v)));
  const inv = invert3(RGB2YCC);
  const bwd = new Float32Array(9);
  inv.forEach((row, o) => row.forEach((v, i) => (bwd[o * 3 + i] = v)));
  const basis = dctBasis();
  const dct = new Float32Array(192 * 64);
  const idct = new Float32Array(192 * 64);
  for (let p = 0; p < 3; p++)
    for (let k = 0; k < 64; k++)
      for (let pix = 0; pix < 64; pix++) {
        dct[(p * 64 + k) * 64 + pix] = basis[k][pix];
        // output channel p*64+pix (CRD order for DepthToSpace) from coefficient k of plane p
        idct[(p * 64 + pix) * 64 + k] = basis[k][pix];
      }
  const ycc = g.op('Conv', [x, g.constF(fwd, [3, 3, 1, 1], 'rgb2ycc'), g.constF([-0.5, 0, 0], [3], 'ycc_shift')], convAttrs(1));
  const coef = g.op('Conv', [ycc, g.constF(dct, [192, 1, 8, 8], 'dct8')], convAttrs(8, { stride: 8, pad: 0, group: 3 }));
  const q = g.op('Round', [g.op('Div', [coef, steps])]);
  const deq = g.op('Mul', [q, steps]);
  const pix = g.op('Conv', [deq, g.constF(idct, [192, 64, 1, 1], 'idct8')], convAttrs(1, { group: 3 }));
  const planes = g.op('DepthToSpace', [pix], { blocksize: attr.int(8), mode: attr.string('CRD') });
  const shifted = g.op('Add', [planes, g.constF([0.5, 0, 0], [1, 3, 1, 1], 'ycc_unshift')]);
  return g.op('Conv', [shifted, g.constF(bwd, [3, 3, 1, 1], 'ycc2rgb')], convAttrs(1), out);
}

/** Luma quantizer step of the rate proxy, 0-1 units: H.264's step near QP 28 (16/255). */
export const RATE_DELTA = 16 / 255;

/**
 * A differentiable estimate of the bits a block codec spends on `x` (RGB 0-1 [N,3,H,W], sides
 * multiples of 8): the mean over the 63 AC coefficients of every 8x8 luma DCT block of
 * log2(1 + |c|/Δ). Bits go mostly to luma detail at streaming rates, and an entropy coder pays
 * roughly the log of a coefficient's magnitude in steps. The training objective needs it because
 * a loss measured after a codec at a fixed CRF rewards an LR that simply costs more bits.
 */
export function addRateProxy(g: GraphBuilder, x: string, out?: string): string {
  const basis = dctBasis();
  const ac = new Float32Array(63 * 64);
  for (let k = 1; k < 64; k++) for (let pix = 0; pix < 64; pix++) ac[(k - 1) * 64 + pix] = basis[k][pix];
  // BT.709 luma (the encoder's conversion); the offset does not reach the AC coefficients
  const y = g.op('Conv', [x, g.constF([BT709.KR, BT709.KG, BT709.KB], [1, 3, 1, 1], 'rate_luma')], convAttrs(1));
  const coef = g.op('Conv', [y, g.constF(ac, [63, 1, 8, 8], 'rate_dct_ac')], convAttrs(8, { stride: 8, pad: 0 }));
  // |c| smoothed below 1/255 so that the gradient has no kink at 0; the floor this leaves is
  // subtracted, so a flat picture costs 0
  const soft = 1e-3;
  const mag = g.op('Sqrt', [g.op('Add', [g.op('Mul', [coef, coef]), g.constF([soft * soft], [], 'rate_eps')])]);
  const bits = g.op('Log', [g.op('Add', [g.constF([1], [], 'rate_one'), g.op('Div', [mag, g.constF([RATE_DELTA], [], 'rate_delta')])])]);
  const perCoef = g.op('Div', [g.op('Sub', [bits, g.constF([Math.log(1 + soft / RATE_DELTA)], [], 'rate_floor')]), g.constF([Math.LN2], [], 'rate_ln2')]);
  return g.op('ReduceMean', [perCoef], { keepdims: attr.int(0) }, out);
}
