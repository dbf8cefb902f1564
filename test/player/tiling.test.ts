import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession, ort } from '../../src/encoder/onnx/session.js';
import { planTiles, runTiled, type RunFn } from '../../src/player/tiling.js';
import { buildStandInX2 } from './models.js';

describe('tiled upscaling', () => {
  const m = buildStandInX2();
  let session: ort.InferenceSession;
  let calls: [number, number][] = [];
  const run: RunFn = async (x, w, h) => {
    calls.push([w, h]);
    const r = await session.run({ lr: new ort.Tensor('float32', x, [1, 3, h, w]) });
    return r.hr.data as Float32Array;
  };
  const w = 70;
  const h = 46;
  const input = Float32Array.from({ length: 3 * w * h }, (_, i) => 0.5 + 0.45 * Math.sin(i * 0.61) * Math.cos(i * 0.013));

  beforeAll(async () => {
    session = await createSession(m.bytes, { threads: 1 });
  });
  afterAll(async () => {
    await session?.release();
  });

  it('plans tiles that cover the frame exactly once, with clipped context', () => {
    const tiles = planTiles(w, h, 24, 5);
    const seen = new Uint8Array(w * h);
    for (const t of tiles) {
      expect(t.px0).toBe(Math.max(0, t.x0 - 5));
      expect(t.px1).toBe(Math.min(w, t.x1 + 5));
      for (let y = t.y0; y < t.y1; y++) for (let x = t.x0; x < t.x1; x++) seen[y * w + x]++;
    }
    expect(seen.every((v) => v === 1)).toBe(true);
    expect(tiles.length).toBe(6);
  });

  it('gives the same output as one whole-frame run when the overlap covers the receptive field', async () => {
    const whole = await runTiled(input, w, h, 2, planTiles(w, h, Math.max(w, h), m.radius), run, new Float32Array(12 * w * h));
    calls = [];
    const tiled = await runTiled(input, w, h, 2, planTiles(w, h, 24, m.radius), run, new Float32Array(12 * w * h));
    expect(calls.length).toBe(6);
    expect(calls.every(([tw, th]) => tw < w && th < h)).toBe(true);
    let maxErr = 0;
    for (let i = 0; i < whole.length; i++) maxErr = Math.max(maxErr, Math.abs(whole[i] - tiled[i]));
    expect(maxErr).toBeLessThan(1e-5);

    // without enough overlap the tile borders show: the check above can fail
    const seams = await runTiled(input, w, h, 2, planTiles(w, h, 24, 1), run, new Float32Array(12 * w * h));
    let seamErr = 0;
    for (let i = 0; i < whole.length; i++) seamErr = Math.max(seamErr, Math.abs(whole[i] - seams[i]));
    expect(seamErr).toBeGreaterThan(1e-5);
    expect(seamErr).toBeGreaterThan(20 * maxErr);
  });

  it('rejects a non-positive tile size and a short output buffer', async () => {
    expect(() => planTiles(10, 10, 0, 2)).toThrow(/positive/);
    await expect(runTiled(input, w, h, 2, planTiles(w, h, 24, 2), run, new Float32Array(10))).rejects.toThrow(/output holds/);
  });
});
