import { describe, expect, it } from 'vitest';
import { gaussianKernel, psnr, psnrFloat, psnrY, rgbToY601, ssimPlane, ssimY } from '../../src/shared/metrics.js';

/** Deterministic pseudo-random bytes (LCG), so the tests do not depend on Math.random. */
function noise(n: number, seed: number, lo = 0, hi = 255): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + (s % (hi - lo + 1));
  }
  return out;
}

/** A smooth RGB test image: gradients plus a soft blob, values kept in 40-200 so offsets never clip. */
function smooth(w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      const blob = 60 * Math.exp(-((x - w / 2) ** 2 + (y - h / 2) ** 2) / (2 * (w / 5) ** 2));
      out[i] = Math.round(40 + (100 * x) / w + blob);
      out[i + 1] = Math.round(40 + (100 * y) / h + blob / 2);
      out[i + 2] = Math.round(120 + 40 * Math.sin(x / 3) * Math.cos(y / 4));
    }
  }
  return out;
}

/**
 * SSIM straight from the definition in Wang et al. 2004: for every 11x11 window fully inside the
 * image, Gaussian-weighted means, variances and covariance, then the mean of the index. No
 * separable filtering, no shared code with the module under test.
 */
function ssimDirect(a: ArrayLike<number>, b: ArrayLike<number>, w: number, h: number): number {
  const win = 11;
  const sigma = 1.5;
  const g: number[][] = [];
  let gs = 0;
  for (let i = 0; i < win; i++) {
    g.push([]);
    for (let j = 0; j < win; j++) {
      const v = Math.exp(-((i - 5) ** 2 + (j - 5) ** 2) / (2 * sigma * sigma));
      g[i].push(v);
      gs += v;
    }
  }
  const c1 = (0.01 * 255) ** 2;
  const c2 = (0.03 * 255) ** 2;
  let total = 0;
  let count = 0;
  for (let y = 0; y + win <= h; y++) {
    for (let x = 0; x + win <= w; x++) {
      let ma = 0, mb = 0;
      for (let i = 0; i < win; i++) for (let j = 0; j < win; j++) {
        const wt = g[i][j] / gs;
        ma += wt * a[(y + i) * w + x + j];
        mb += wt * b[(y + i) * w + x + j];
      }
      let va = 0, vb = 0, cov = 0;
      for (let i = 0; i < win; i++) for (let j = 0; j < win; j++) {
        const wt = g[i][j] / gs;
        const da = a[(y + i) * w + x + j] - ma;
        const db = b[(y + i) * w + x + j] - mb;
        va += wt * da * da;
        vb += wt * db * db;
        cov += wt * da * db;
      }
      total += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
      count++;
    }
  }
  return total / count;
}

describe('psnr', () => {
  const w = 24, h = 16;
  const a = smooth(w, h);

  it('is Infinity for identical images', () => {
    expect(psnr(a, a.slice(), { width: w, height: h })).toBe(Infinity);
    expect(psnrY(a, a.slice(), w, h)).toBe(Infinity);
  });

  it('gives exactly 20 log10(255/d) for a constant offset d', () => {
    for (const d of [1, 3, 10]) {
      const b = a.map((v) => v + d);
      expect(psnr(a, b, { width: w, height: h })).toBeCloseTo(20 * Math.log10(255 / d), 10);
      // the offset in Y is d * (65.481 + 128.553 + 24.966) / 255 = d * 219/255
      expect(psnrY(a, b, w, h)).toBeCloseTo(20 * Math.log10(255 / ((d * 219) / 255)), 10);
    }
  });

  it('ignores the cropped border and the alpha channel', () => {
    const b = a.slice();
    b[0] = 255 - b[0]; // corner pixel, inside a 2-pixel border
    expect(psnr(a, b, { width: w, height: h, crop: 2 })).toBe(Infinity);
    expect(psnr(a, b, { width: w, height: h })).toBeLessThan(60);
    const rgba = (src: Uint8Array, alpha: number): Uint8Array => {
      const out = new Uint8Array(w * h * 4);
      for (let i = 0; i < w * h; i++) {
        out.set(src.subarray(i * 3, i * 3 + 3), i * 4);
        out[i * 4 + 3] = alpha;
      }
      return out;
    };
    expect(psnr(rgba(a, 0), rgba(a, 255), { width: w, height: h, channels: 4 })).toBe(Infinity);
  });

  it('psnrFloat matches the 8-bit result on 0-1 data', () => {
    const b = noise(w * h * 3, 7);
    const fa = Float32Array.from(a, (v) => v / 255);
    const fb = Float32Array.from(b, (v) => v / 255);
    expect(psnrFloat(fa, fb)).toBeCloseTo(psnr(a, b, { width: w, height: h }), 4);
  });

  it('rejects mismatched sizes and crops that leave nothing', () => {
    expect(() => psnr(a, a.subarray(3), { width: w, height: h })).toThrow(/differ in length/);
    expect(() => psnrY(a, a, w, h, { crop: 8 })).toThrow(/leaves nothing/);
  });

  it('rgbToY601 maps black and white to 16 and 235', () => {
    const y = rgbToY601(new Uint8Array([0, 0, 0, 255, 255, 255]), 2, 1);
    expect(y[0]).toBeCloseTo(16, 12);
    expect(y[1]).toBeCloseTo(235, 12);
  });
});

describe('ssim', () => {
  const w = 32, h = 24;
  const a = smooth(w, h);

  it('is 1 for identical images', () => {
    expect(ssimY(a, a.slice(), w, h)).toBeCloseTo(1, 12);
  });

  it('is symmetric and below 1 with noise', () => {
    const n = noise(w * h * 3, 11, 0, 40);
    const b = a.map((v, i) => Math.min(255, v + n[i] - 20));
    const s1 = ssimY(a, b, w, h);
    const s2 = ssimY(b, a, w, h);
    expect(s1).toBeCloseTo(s2, 12);
    expect(s1).toBeLessThan(0.95);
    expect(s1).toBeGreaterThan(0);
  });

  it('matches the direct windowed definition on Y', () => {
    const b = a.map((v, i) => (i % 7 === 0 ? 255 - v : v));
    const ya = rgbToY601(a, w, h);
    const yb = rgbToY601(b, w, h);
    const ref = ssimDirect(ya, yb, w, h);
    expect(ref).toBeLessThan(0.99);
    expect(ssimY(a, b, w, h)).toBeCloseTo(ref, 10);
    // with a crop, the same as measuring the cropped planes
    const c = 3;
    const cw = w - 2 * c, ch = h - 2 * c;
    const crop = (p: Float64Array): Float64Array => {
      const out = new Float64Array(cw * ch);
      for (let y = 0; y < ch; y++) for (let x = 0; x < cw; x++) out[y * cw + x] = p[(y + c) * w + x + c];
      return out;
    };
    expect(ssimY(a, b, w, h, { crop: c })).toBeCloseTo(ssimDirect(crop(ya), crop(yb), cw, ch), 10);
  });

  it('uses a normalized 11-tap sigma 1.5 window and rejects images smaller than it', () => {
    const k = gaussianKernel();
    expect(k.length).toBe(11);
    expect(k.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 14);
    expect(k[5] / k[6]).toBeCloseTo(Math.exp(1 / (2 * 1.5 * 1.5)), 12);
    expect(() => ssimPlane(new Float64Array(100), new Float64Array(100), 10, 10)).toThrow(/smaller than/);
  });
});
