import { cubic } from './bicubic.js';

/**
 * A direct, loop-per-pixel port of MATLAB imresize's bicubic resampling (its `contributions`
 * routine), used to check the fixed-convolution pairs and to measure how much their reflect
 * borders differ from MATLAB's symmetric ones. Slow; for tests and benchmarks only.
 */
export type Boundary = 'reflect' | 'symmetric';

function mapIndex(j: number, n: number, boundary: Boundary): number {
  // reflect: -1 -> 1 (edge not repeated); symmetric: -1 -> 0 (MATLAB)
  const period = boundary === 'reflect' ? 2 * n - 2 : 2 * n;
  let m = ((j % period) + period) % period;
  if (boundary === 'reflect') return m < n ? m : period - m;
  if (m >= n) m = period - 1 - m;
  return m;
}

interface Contribution {
  indices: number[];
  weights: number[];
}

function contributions(inLen: number, outLen: number, scale: number, boundary: Boundary, aa: boolean): Contribution[] {
  const antialias = aa && scale < 1;
  const kernelWidth = antialias ? 4 / scale : 4;
  const h = (x: number) => (antialias ? scale * cubic(scale * x) : cubic(x));
  const out: Contribution[] = [];
  for (let x = 1; x <= outLen; x++) {
    // 1-based coordinates, exactly as in imresize.m
    const u = x / scale + 0.5 * (1 - 1 / scale);
    const left = Math.floor(u - kernelWidth / 2);
    const taps = Math.ceil(kernelWidth) + 2;
    const indices: number[] = [];
    const weights: number[] = [];
    for (let t = 0; t < taps; t++) {
      const j = left + t;
      indices.push(mapIndex(j - 1, inLen, boundary));
      weights.push(h(u - j));
    }
    const sum = weights.reduce((a, b) => a + b, 0);
    out.push({ indices, weights: weights.map((w) => w / sum) });
  }
  return out;
}

/** Resizes a planar [c,h,w] float image by an integer factor (or 1/factor), MATLAB-style. */
export function imresizeRef(
  src: Float32Array,
  channels: number,
  height: number,
  width: number,
  scale: number,
  boundary: Boundary = 'symmetric',
  antialias = true,
): { data: Float32Array; height: number; width: number } {
  const outH = Math.round(height * scale);
  const outW = Math.round(width * scale);
  const cw = contributions(width, outW, scale, boundary, antialias);
  const ch = contributions(height, outH, scale, boundary, antialias);
  // columns first, then rows, in float64 to keep the reference itself exact
  const tmp = new Float64Array(channels * height * outW);
  for (let c = 0; c < channels; c++)
    for (let y = 0; y < height; y++)
      for (let x = 0; x < outW; x++) {
        const { indices, weights } = cw[x];
        let acc = 0;
        for (let t = 0; t < indices.length; t++) acc += weights[t] * src[(c * height + y) * width + indices[t]];
        tmp[(c * height + y) * outW + x] = acc;
      }
  const data = new Float32Array(channels * outH * outW);
  for (let c = 0; c < channels; c++)
    for (let y = 0; y < outH; y++) {
      const { indices, weights } = ch[y];
      for (let x = 0; x < outW; x++) {
        let acc = 0;
        for (let t = 0; t < indices.length; t++) acc += weights[t] * tmp[(c * height + indices[t]) * outW + x];
        data[(c * outH + y) * outW + x] = acc;
      }
    }
  return { data, height: outH, width: outW };
}
