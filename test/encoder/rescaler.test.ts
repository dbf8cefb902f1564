import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFrames } from '../../src/encoder/media/decode.js';
import { createSession, ort } from '../../src/encoder/graph/session.js';
import { resolvePair } from '../../src/encoder/pairs/index.js';
import { encodeVideo } from '../../src/encoder/job/encode.js';
import { PairRescaler } from '../../src/encoder/pairs/runtime.js';
import { imageToTensor, type RgbImage } from '../../src/shared/image.js';
import { makeClip } from './helpers.js';

describe('frame rescalers', () => {
  let dir: string;
  let clip: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hcd-rescaler-'));
    clip = await makeClip(join(dir, 'clip.mp4'), { seconds: 2, width: 96, height: 64 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('PairRescaler is the pair\'s downscaler, clipped and rounded to 8 bits', async () => {
    const pair = await resolvePair('bicubic-x2');
    const r = await PairRescaler.create(pair, { threads: 1 });
    const session = await createSession(pair.downscaler, { threads: 1 });
    let i = 0;
    for await (const f of readFrames(clip, { width: 96, height: 64 })) {
      const frame: RgbImage = { width: 96, height: 64, data: f };
      const got = await r.process(frame, { index: i, sceneCut: i === 0 });
      const y = (await session.run({ x: new ort.Tensor('float32', imageToTensor(frame), [1, 3, 64, 96]) })).y.data as Float32Array;
      expect([got.width, got.height]).toEqual([48, 32]);
      const n = 48 * 32;
      for (let p = 0; p < n; p += 37)
        for (let c = 0; c < 3; c++) expect(got.data[p * 3 + c]).toBe(Math.min(255, Math.max(0, Math.round(y[c * n + p] * 255))));
      if (++i === 3) break;
    }
    await expect(r.process({ width: 95, height: 64, data: new Uint8Array(95 * 64 * 3) }, { index: 0, sceneCut: true })).rejects.toThrow(/not divisible/);
    await r.close();
    await session.release();
  });

  it('codec-aware mode: the closed loop ships exactly what it scored, never worse than plain for its bits', async () => {
    const pair = await resolvePair('bicubic-x2');
    const base = { input: clip, model: 'bicubic-x2', segment: 1, renditions: [50_000, 100_000], sourceRenditions: [], hcdIters: [0, 0] as [number, number], resume: false, force: false };
    const plain = await encodeVideo({ ...base, outdir: join(dir, 'plain'), codecAware: false });
    const aware = await encodeVideo({ ...base, outdir: join(dir, 'aware'), codecAware: true, codecLoop: { passes: 2, step: 2, radius: 4 } });
    expect(aware.frames).toBe(48);
    // 2 renditions x 2 one-second chunks, each with 3 roundtrips (start + 2 passes)
    expect(aware.codecLoop?.length).toBe(4);
    const hr: Float32Array[] = [];
    for await (const f of readFrames(clip, { width: 96, height: 64 })) hr.push(imageToTensor({ width: 96, height: 64, data: f }));
    const up = await createSession(pair.upscaler, { threads: 1 });
    /** Per-chunk RGB PSNR of U(decoded rendition) against the source, as the loop scores it. */
    const scores = async (out: string, name: string): Promise<number[]> => {
      const mse = [0, 0];
      let k = 0;
      for await (const f of readFrames(join(out, name, 'index.m3u8'), { width: 48, height: 32, passthrough: true })) {
        const y = (await up.run({ x: new ort.Tensor('float32', imageToTensor({ width: 48, height: 32, data: f }), [1, 3, 32, 48]) })).y.data as Float32Array;
        let e = 0;
        for (let i = 0; i < y.length; i++) e += (y[i] - hr[k][i]) ** 2;
        mse[Math.floor(k / 24)] += e / y.length / 24;
        k++;
      }
      expect(k).toBe(48);
      return mse.map((m) => -10 * Math.log10(m));
    };
    for (const name of ['lr-50k', 'lr-100k']) {
      const shipped = await scores(join(dir, 'aware'), name);
      const without = await scores(join(dir, 'plain'), name);
      for (const chunk of [0, 1]) {
        const st = aware.codecLoop!.find((c) => c.rendition === name && c.chunk === chunk)!;
        expect(st.psnr.length).toBe(3);
        // the first roundtrip is the plain encode, the kept one is what the segment holds
        expect(st.psnr[0]).toBeCloseTo(without[chunk], 2);
        expect(st.psnr[st.kept]).toBeCloseTo(shipped[chunk], 2);
        // kept by PSNR less what its extra bits would buy at 1 dB per doubling: never worse than plain
        expect(st.bytes[0]).toBeGreaterThan(0);
        expect(shipped[chunk] - Math.log2(st.bytes[st.kept] / st.bytes[0])).toBeGreaterThanOrEqual(without[chunk] - 1e-6);
      }
      const gain = (shipped[0] + shipped[1] - without[0] - without[1]) / 2;
      expect(gain, name).toBeGreaterThan(0.05);
      // rate control holds the rendition's bitrate: the gain is not bought with bits
      const bytes = (s: typeof aware) => s.renditions.find((r) => r.name === name)!.averageBandwidth;
      expect(bytes(aware) / bytes(plain)).toBeLessThan(1.1);
    }
    await up.release();
  });
  it('reports flicker: none added by the plain pair, plenty by a rescaler that shimmers', async () => {
    const pair = await resolvePair('bicubic-x2');
    const base = { input: clip, model: 'bicubic-x2', segment: 1, renditions: [100_000], sourceRenditions: [], codecAware: false, hcdIters: [0, 0] as [number, number], resume: false, force: false };
    const calm = await encodeVideo({ ...base, outdir: join(dir, 'calm') }, {}, { pair });
    // 48 frames in two 24-frame chunks: pairs across the chunk start are not compared
    expect(calm.flicker?.pairs).toBe(46);
    expect(calm.flicker!.source).toBeGreaterThan(0.5);
    expect(calm.flicker!.added).toBeLessThan(0.1);
    const inner = await PairRescaler.create(pair, { threads: 1 });
    // +-6 levels, alternating every frame: what a badly behaved per-frame optimizer would do
    const shimmer = {
      scale: 2,
      async process(frame: RgbImage, ctx: { index: number; sceneCut: boolean }) {
        const y = await inner.process(frame, ctx);
        const d = ctx.index % 2 ? 6 : -6;
        return { ...y, data: y.data.map((v) => Math.min(255, Math.max(0, v + d))) };
      },
      close: () => inner.close(),
    };
    const busy = await encodeVideo({ ...base, outdir: join(dir, 'busy') }, {}, { pair, rescaler: shimmer });
    expect(busy.flicker!.added).toBeGreaterThan(calm.flicker!.added + 5);
  });
});
