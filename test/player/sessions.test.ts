/**
 * SessionPool with onnxruntime-node standing in for onnxruntime-web (same InferenceSession API):
 * one session per input size, created with that size's freeDimensionOverrides, giving the base
 * session's output; the least recently used one is released. (onnxruntime-node ignores
 * freeDimensionOverrides, so what the overrides do is seen in the browser tests, not here.)
 */
import * as ortNode from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionPool } from '../../src/player/sessions.js';
import type { Ort, OrtSession } from '../../src/player/types.js';
import { buildStandInX2 } from './models.js';

const ort = ortNode as unknown as Ort;
const options = { graphOptimizationLevel: 'all' as const, intraOpNumThreads: 1 };

async function upscale(s: OrtSession, w: number, h: number): Promise<Float32Array> {
  const x = Float32Array.from({ length: 3 * w * h }, (_, i) => 0.5 + 0.4 * Math.sin(i * 0.31));
  const r = await s.run({ lr: new ort.Tensor('float32', x, [1, 3, h, w]) });
  return r.hr.data as Float32Array;
}

describe('SessionPool (fixed input shapes per size)', () => {
  const m = buildStandInX2();
  let pool: SessionPool;
  let created = 0;
  let released = 0;
  const overrides: unknown[] = [];

  beforeAll(async () => {
    const base = await ort.InferenceSession.create(m.bytes, options);
    // count what the pool creates and releases
    const counting: Ort = {
      ...ort,
      InferenceSession: {
        create: async (bytes: Uint8Array, o: { freeDimensionOverrides?: unknown }) => {
          overrides.push(o.freeDimensionOverrides);
          const s = await ort.InferenceSession.create(bytes, o as Parameters<Ort['InferenceSession']['create']>[1]);
          created++;
          const release = s.release.bind(s);
          s.release = () => {
            released++;
            return release();
          };
          return s;
        },
      } as unknown as Ort['InferenceSession'],
    };
    pool = new SessionPool(counting, m.bytes, options, base, 'lr', 2);
  });
  afterAll(async () => {
    await pool?.release();
  });

  it("reads the input's symbolic height and width", () => {
    expect(pool.dims).toEqual({ h: 'H', w: 'W' });
  });

  it('gives a fixed-shape session per size whose output equals the base session', async () => {
    const a = await pool.get(20, 12);
    expect(a.fixed).toBe(true);
    expect(a.session).not.toBe(pool.base);
    expect(overrides).toEqual([{ H: 12, W: 20 }]);
    expect(Array.from(await upscale(a.session, 20, 12))).toEqual(Array.from(await upscale(pool.base, 20, 12)));
    expect((await pool.get(20, 12)).session).toBe(a.session); // reused
    expect(created).toBe(1);
  });

  it('keeps the most recent sizes and releases the least recently used one', async () => {
    const a = await pool.get(20, 12);
    await pool.get(24, 12);
    expect(released).toBe(0);
    await pool.get(28, 12); // max 2: 20x12 goes
    await new Promise((r) => setTimeout(r, 10));
    expect(released).toBe(1);
    const again = await pool.get(20, 12);
    expect(again.session).not.toBe(a.session);
    expect(created).toBe(4);
  });

  it('falls back to the base session when the model has no symbolic height and width, or a session fails', async () => {
    const fixedDims = new SessionPool(ort, m.bytes, options, pool.base, 'no-such-input');
    expect(fixedDims.dims).toBeUndefined();
    expect(await fixedDims.get(20, 12)).toEqual({ session: pool.base, fixed: false });
    const failing = { ...ort, InferenceSession: { create: () => Promise.reject(new Error('no')) } } as unknown as Ort;
    const p = new SessionPool(failing, m.bytes, options, pool.base, 'lr');
    expect(await p.get(20, 12)).toEqual({ session: pool.base, fixed: false });
  });
});
