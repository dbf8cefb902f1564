import { describe, expect, it } from 'vitest';
import { createSession, ort } from '../../src/encoder/graph/session.js';
import { receptiveRadius, resolvePair } from '../../src/encoder/pairs/index.js';

/**
 * Measures the receptive radius by experiment: bump one input pixel in the middle and see how
 * far (in input pixels, from the output pixel's centre mapped to the input) the output changes.
 */
async function measuredRadius(model: Parameters<typeof receptiveRadius>[0], inSize: number, scale: number): Promise<number> {
  const s = await createSession(model, { threads: 1 });
  const n = 3 * inSize * inSize;
  const base = Float32Array.from({ length: n }, (_, i) => 0.3 + 0.4 * (((i * 53) % 97) / 97));
  const run = async (x: Float32Array) => (await s.run({ x: new ort.Tensor('float32', x, [1, 3, inSize, inSize]) })).y;
  const a = await run(base);
  const out = a.dims[3];
  const da = a.data as Float32Array;
  let r = 0;
  // when downscaling, output centres sit on a coarser lattice: try every bump phase
  for (let phase = 0; phase < Math.max(1, Math.round(1 / scale)); phase++) {
    const c = inSize / 2 + phase;
    const bumped = base.slice();
    for (let ch = 0; ch < 3; ch++) bumped[(ch * inSize + c) * inSize + c] += 0.3;
    const db = (await run(bumped)).data as Float32Array;
    for (let ch = 0; ch < 3; ch++)
      for (let y = 0; y < out; y++)
        for (let x = 0; x < out; x++) {
          const i = (ch * out + y) * out + x;
          if (Math.abs(da[i] - db[i]) < 1e-7) continue;
          // output pixel centre in input coordinates (half-pixel convention)
          const toIn = (v: number) => (v + 0.5) / scale - 0.5;
          r = Math.max(r, Math.abs(toIn(y) - c), Math.abs(toIn(x) - c));
        }
  }
  return r;
}

describe('receptiveRadius', () => {
  for (const id of ['bicubic-x2', 'bicubic-x4', 'rdn-x2'])
    it(`${id}: the static radius bounds the measured reach, and is tight`, async () => {
      const p = await resolvePair(id);
      const s = p.manifest.scale;
      const up = await measuredRadius(p.upscaler, 32, s);
      const rUp = receptiveRadius(p.upscaler);
      expect(up).toBeLessThanOrEqual(rUp);
      expect(up).toBeGreaterThan(rUp - 1.5);
      const down = await measuredRadius(p.downscaler, 32, 1 / s);
      const rDown = receptiveRadius(p.downscaler);
      expect(down).toBeLessThanOrEqual(rDown);
      expect(down).toBeGreaterThan(rDown - 1.5);
    });
});
