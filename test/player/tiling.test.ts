import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession, ort } from '../../src/encoder/graph/session.js';
import { planTiles, runTiled, runTiles, type RunFn } from '../../src/player/tiling.js';
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

  it('plans tiles that cover the frame exactly once, with enough context and one window size', () => {
    const tiles = planTiles(w, h, 24, 5);
    const seen = new Uint8Array(w * h);
    for (const t of tiles) {
      // at least 5 pixels of context on every side, or the window reaches the frame's edge
      expect(t.px0 === 0 || t.px0 <= t.x0 - 5).toBe(true);
      expect(t.py0 === 0 || t.py0 <= t.y0 - 5).toBe(true);
      expect(t.px1 === w || t.px1 >= t.x1 + 5).toBe(true);
      expect(t.py1 === h || t.py1 >= t.y1 + 5).toBe(true);
      expect(t.px0).toBeGreaterThanOrEqual(0);
      expect(t.px1).toBeLessThanOrEqual(w);
      expect(t.py1).toBeLessThanOrEqual(h);
      for (let y = t.y0; y < t.y1; y++) for (let x = t.x0; x < t.x1; x++) seen[y * w + x]++;
    }
    expect(seen.every((v) => v === 1)).toBe(true);
    expect(tiles.length).toBe(6);
    // 3x2 cores of 24x23: every window is the core plus 2x5 pixels, shifted inwards at the edges
    expect(new Set(tiles.map((t) => `${t.px1 - t.px0}x${t.py1 - t.py0}`))).toEqual(new Set(['34x33']));
    expect(tiles[0]).toMatchObject({ px0: 0, px1: 34 });
    expect(tiles[2]).toMatchObject({ x0: 48, x1: 70, px0: 36, px1: 70 });
    // a window larger than the frame is the frame
    expect(planTiles(30, 12, 16, 8).every((t) => t.px0 === 0 && t.px1 === 30 && t.py0 === 0 && t.py1 === 12)).toBe(true);
  });

  it('gives the same output as one whole-frame run when the overlap covers the receptive field', async () => {
    const whole = await runTiled(input, w, h, 2, planTiles(w, h, Math.max(w, h), m.radius), run, new Float32Array(12 * w * h));
    calls = [];
    const tiled = await runTiled(input, w, h, 2, planTiles(w, h, 24, m.radius), run, new Float32Array(12 * w * h));
    expect(calls.length).toBe(6);
    expect(calls.every(([tw, th]) => tw < w && th < h)).toBe(true);
    expect(new Set(calls.map(([tw, th]) => `${tw}x${th}`)).size).toBe(1); // one input shape
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

  it('runTiles gives each output with where its core goes; placed there, they make runTiled\'s frame', async () => {
    const tiles = planTiles(w, h, 24, m.radius);
    const stitched = await runTiled(input, w, h, 2, tiles, run, new Float32Array(12 * w * h));
    const parts = await runTiles(input, w, h, 2, tiles, run);
    expect(parts.length).toBe(6);
    const W = 2 * w;
    const N = W * 2 * h;
    const frame = new Float32Array(3 * N);
    for (const p of parts) {
      expect(p.out.length).toBe(3 * p.width * p.height);
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < p.h; y++)
          for (let x = 0; x < p.w; x++) frame[c * N + (p.dstY + y) * W + p.dstX + x] = p.out[c * p.width * p.height + (p.srcY + y) * p.width + p.srcX + x];
    }
    expect(Buffer.from(frame.buffer).equals(Buffer.from(stitched.buffer))).toBe(true);
  });

  it('rejects a non-positive tile size and a short output buffer', async () => {
    expect(() => planTiles(10, 10, 0, 2)).toThrow(/positive/);
    await expect(runTiled(input, w, h, 2, planTiles(w, h, 24, 2), run, new Float32Array(10))).rejects.toThrow(/output holds/);
  });
});
