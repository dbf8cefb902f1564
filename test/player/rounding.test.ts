/**
 * The two ways the player turns the network's floats into 8-bit pixels must give the bytes
 * planarToPacked (src/shared/image.ts) gives, since the browser tests compare the canvas with
 * Node's upscale through planarToPacked: packRgba on the CPU path, and the WebGPU shader's
 * rounding (simulated here in float32 arithmetic, as the GPU does it) with its threshold table.
 */
import { describe, expect, it } from 'vitest';
import { planarToPacked } from '../../src/shared/image.js';
import { roundingThresholds } from '../../src/player/gpu.js';
import { packRgba } from '../../src/player/pack.js';

const f = Math.fround;

/** The shader's q8(): float32 estimate, then the exact thresholds. */
function shaderQ8(v: number, scale: number, t: Float32Array, fix = true): number {
  let q = Math.min(255, Math.max(0, Math.floor(f(f(f(v) * f(scale)) + 0.5))));
  if (fix && q < 255 && v >= t[q]) q++;
  if (fix && q > 0 && v < t[q - 1]) q--;
  return q;
}

function nextFloat(v: number, d: number): number {
  const a = new Float32Array([v]);
  new Int32Array(a.buffer)[0] += d;
  return a[0];
}

/** Values next to every rounding boundary (a few float32 steps either side), plus a spread. */
function hardValues(scale: number): Float32Array {
  const vs: number[] = [];
  for (let k = -1; k <= 256; k++) {
    const b = f((k + 0.5) / scale);
    for (let d = -3; d <= 3; d++) vs.push(b > 0 ? nextFloat(b, d) : b);
  }
  for (let i = 0; i < 5000; i++) vs.push(f((Math.sin(i * 12.9898) * 0.6 + 0.5) * (255 / scale)));
  vs.push(0, -0, -1e-9, 1e30, -1e30, 1 + 1e-7);
  return Float32Array.from(vs);
}

describe('8-bit rounding of the network output', () => {
  for (const scale of [255, 1]) {
    it(`WebGPU shader rounding equals planarToPacked (scale ${scale})`, () => {
      const t = roundingThresholds(scale);
      const v = hardValues(scale);
      const n = v.length;
      // planarToPacked on one channel: put the values in R, zeros in G and B
      const planar = new Float32Array(3 * n);
      planar.set(v);
      const ref = planarToPacked(planar, n, 1, { channels: 4, scale });
      let mismatches = 0;
      let naive = 0;
      for (let i = 0; i < n; i++) {
        if (shaderQ8(v[i], scale, t) !== ref[4 * i]) mismatches++;
        if (shaderQ8(v[i], scale, t, false) !== ref[4 * i]) naive++;
      }
      expect(mismatches).toBe(0);
      // and the threshold fix-up is what makes it exact: float32 alone misses some boundaries
      if (scale === 255) expect(naive).toBeGreaterThan(0);
    });
  }

  it('thresholds are where Math.round(v * scale) steps up', () => {
    const t = roundingThresholds(255);
    for (let k = 0; k < 255; k++) {
      expect(Math.round(t[k] * 255)).toBe(k + 1);
      expect(Math.round(nextFloat(t[k], -1) * 255)).toBe(k);
    }
  });

  it('packRgba gives the bytes planarToPacked gives, next to every boundary and for specials', () => {
    for (const scale of [255, 1, 100]) {
      const v = hardValues(scale === 100 ? 255 : scale);
      const specials = [NaN, -0, Infinity, -Infinity, 1e30, -1e30, 2 ** 32 + 100, -(2 ** 31) - 0.5, 1e-40, -1e-40];
      const n = Math.ceil((v.length + specials.length) / 3);
      const planar = new Float32Array(3 * n);
      planar.set(v);
      planar.set(specials, v.length);
      planar.reverse(); // every value in every channel position at least once over the two orders
      for (let pass = 0; pass < 2; pass++) {
        const ref = planarToPacked(planar, n, 1, { channels: 4, scale, out: new Uint8ClampedArray(4 * n) });
        const out = new Uint8ClampedArray(4 * n);
        packRgba(planar, n, scale, out);
        expect(Buffer.from(out.buffer).equals(Buffer.from(ref.buffer))).toBe(true);
        planar.reverse();
      }
    }
    expect(() => packRgba(new Float32Array(30), 10, 255, new Uint8ClampedArray(10))).toThrow(/too small/);
  });
});
