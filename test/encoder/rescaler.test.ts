import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFrames } from '../../src/encoder/frames/decode.js';
import { createSession, ort } from '../../src/encoder/onnx/session.js';
import { resolvePair } from '../../src/encoder/pairs/index.js';
import { encodeVideo } from '../../src/encoder/pipeline/encode.js';
import { PairRescaler, type FrameRescaler, type RescaleContext } from '../../src/encoder/pipeline/rescaler.js';
import { imageToTensor, type RgbImage } from '../../src/shared/image.js';
import { luma, makeClip, psnr } from './helpers.js';

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

  it('codec-aware mode asks for one LR frame per rendition and routes each to its own encoder', async () => {
    const pair = await resolvePair('bicubic-x2');
    const inner = await PairRescaler.create(pair, { threads: 1 });
    const calls: RescaleContext[] = [];
    const made = new Map<string, Uint8Array[]>();
    // the second rendition gets the negative image: if frames were crossed, PSNR would collapse
    const spy: FrameRescaler = {
      scale: 2,
      async process(frame, ctx) {
        calls.push(ctx);
        const y = await inner.process(frame, ctx);
        const data = ctx.rendition?.name === 'lr-800k' ? y.data.map((v) => 255 - v) : y.data;
        made.set(ctx.rendition!.name, [...(made.get(ctx.rendition!.name) ?? []), data]);
        return { ...y, data };
      },
      close: () => inner.close(),
    };
    const out = join(dir, 'codec-aware');
    const summary = await encodeVideo(
      { input: clip, outdir: out, model: 'bicubic-x2', segment: 1, renditions: [600_000, 800_000], sourceRenditions: [], codecAware: true, resume: false, force: false },
      {},
      { pair, rescaler: spy },
    );
    expect(summary.frames).toBe(48);
    expect(calls.length).toBe(96);
    expect(calls.filter((c) => c.rendition?.name === 'lr-600k').map((c) => c.index)).toEqual([...Array(48).keys()]);
    expect(calls.find((c) => c.rendition?.name === 'lr-800k')?.rendition?.bitrate).toBe(800_000);
    // state is reset at every chunk start, so a resumed run sees exactly what a full run saw
    for (const c of calls) if (c.index % 24 === 0) expect(c.sceneCut).toBe(true);
    for (const name of ['lr-600k', 'lr-800k']) {
      const got: Uint8Array[] = [];
      for await (const f of readFrames(join(out, name, 'index.m3u8'), { width: 48, height: 32, passthrough: true })) got.push(f);
      const want = made.get(name)!;
      const other = made.get(name === 'lr-600k' ? 'lr-800k' : 'lr-600k')!;
      expect(got.length).toBe(48);
      const mean = (ref: Uint8Array[]) => got.reduce((a, g, k) => a + psnr(luma(g), luma(ref[k])), 0) / got.length;
      expect(mean(want), name).toBeGreaterThan(32);
      expect(mean(other), name).toBeLessThan(15);
    }
  });
});
