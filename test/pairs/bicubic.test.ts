import { describe, expect, it } from 'vitest';
import { createSession, ort } from '../../src/encoder/graph/session.js';
import { bicubicDownModel, bicubicUpModel, downTaps } from '../../src/encoder/pairs/bicubic.js';
import { resolvePair } from '../../src/encoder/pairs/index.js';
import { imresizeRef } from '../../src/encoder/pairs/reference.js';
import type { ModelProto } from '../../src/encoder/graph/proto.js';

/** A deterministic test image with edges, gradients and texture, 0-1. */
function testImage(h: number, w: number, seed = 1): Float32Array {
  const out = new Float32Array(3 * h * w);
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const edge = x > w / 3 + c ? 0.7 : 0.2;
        out[(c * h + y) * w + x] = 0.5 * edge + 0.3 * Math.sin((x * (c + 1) + y * 0.7) * 0.6) * 0.5 + 0.2 * rnd();
      }
  return out;
}

async function run(model: ModelProto, x: Float32Array, h: number, w: number): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const s = await createSession(model, { threads: 1 });
  const r = await s.run({ x: new ort.Tensor('float32', x, [1, 3, h, w]) });
  return { data: r.y.data as Float32Array, dims: r.y.dims };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('bicubic fixed convolutions', () => {
  it('downscaling taps: 4*s MATLAB taps (antialiased) or 4 TF taps, normalized, symmetric', () => {
    for (const s of [2, 4]) {
      const aa = downTaps(s, true);
      expect(aa.weights).toHaveLength(4 * s);
      const tf = downTaps(s, false);
      expect(tf.weights).toHaveLength(4);
      for (const t of [aa, tf]) {
        expect(t.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
        t.weights.forEach((w, i) => expect(w).toBeCloseTo(t.weights[t.weights.length - 1 - i], 12));
      }
    }
    // x2 without antialiasing samples Keys' cubic at +-0.5 and +-1.5
    expect(downTaps(2, false).weights.map((w) => +w.toFixed(6))).toEqual([-0.0625, 0.5625, 0.5625, -0.0625]);
  });

  for (const s of [2, 4])
    for (const antialias of [true, false])
      it(`down x${s}${antialias ? '' : ' (no antialias)'} matches the JS imresize port (reflect borders)`, async () => {
        const [h, w] = [s * 7, s * 9];
        const x = testImage(h, w, s);
        const got = await run(bicubicDownModel(s, { antialias }), x, h, w);
        expect(got.dims).toEqual([1, 3, h / s, w / s]);
        const ref = imresizeRef(x, 3, h, w, 1 / s, 'reflect', antialias);
        expect(maxAbsDiff(got.data, ref.data)).toBeLessThan(2e-6);
      });

  for (const s of [2, 4])
    it(`up x${s} matches the JS imresize port (reflect borders)`, async () => {
      const [h, w] = [7, 11];
      const x = testImage(h, w, 10 + s);
      const got = await run(bicubicUpModel(s), x, h, w);
      expect(got.dims).toEqual([1, 3, h * s, w * s]);
      const ref = imresizeRef(x, 3, h, w, s, 'reflect');
      expect(maxAbsDiff(got.data, ref.data)).toBeLessThan(2e-6);
    });

  it('differs from MATLAB (symmetric borders) only near the borders', async () => {
    const s = 2;
    const [h, w] = [20, 24];
    const x = testImage(h, w, 3);
    const down = await run(bicubicDownModel(s), x, h, w);
    const matlab = imresizeRef(x, 3, h, w, 1 / s, 'symmetric');
    const [lh, lw] = [h / s, w / s];
    let interior = 0;
    let border = 0;
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < lh; y++)
        for (let xx = 0; xx < lw; xx++) {
          const i = (c * lh + y) * lw + xx;
          const d = Math.abs(down.data[i] - matlab.data[i]);
          // taps reach 3 HR pixels past an LR pixel's footprint: LR pixels 0,1 and the last 2 see the pad
          if (y >= 2 && y < lh - 2 && xx >= 2 && xx < lw - 2) interior = Math.max(interior, d);
          else border = Math.max(border, d);
        }
    expect(interior).toBeLessThan(2e-6);
    expect(border).toBeGreaterThan(1e-4);
  });

  it('reproduces constants and linear ramps (properties of the resampling itself)', async () => {
    const pair = await resolvePair('bicubic-x2');
    const [h, w] = [16, 16];
    const ramp = new Float32Array(3 * h * w).map((_, i) => 0.1 + 0.02 * (i % w));
    const lr = await run(pair.downscaler, ramp, h, w);
    // interior LR pixel x sits at HR coordinate 2x + 0.5
    for (let xx = 2; xx < 6; xx++) expect(lr.data[3 * 8 + xx]).toBeCloseTo(0.1 + 0.02 * (2 * xx + 0.5), 5);
    const flat = new Float32Array(3 * 8 * 8).fill(0.42);
    const up = await run(pair.upscaler, flat, 8, 8);
    expect(maxAbsDiff(up.data, new Float32Array(up.data.length).fill(0.42))).toBeLessThan(1e-6);
  });

  it('a down+up round trip on a smooth image keeps PSNR high', async () => {
    const pair = await resolvePair('bicubic-x4');
    const [h, w] = [32, 48];
    const x = new Float32Array(3 * h * w).map((_, i) => 0.5 + 0.3 * Math.sin((i % w) * 0.15) * Math.cos(Math.floor(i / w) * 0.1));
    const lr = await run(pair.downscaler, x, h, w);
    const hr = await run(pair.upscaler, lr.data, h / 4, w / 4);
    let se = 0;
    for (let i = 0; i < x.length; i++) se += (x[i] - hr.data[i]) ** 2;
    const psnr = 10 * Math.log10(1 / (se / x.length));
    expect(psnr).toBeGreaterThan(35);
  });
});
