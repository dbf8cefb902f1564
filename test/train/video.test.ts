import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/encoder/graph/builder.js';
import { createSession, ort } from '../../src/encoder/graph/session.js';
import { loadPair } from '../../src/encoder/pairs/load.js';
import { psnrY } from '../../src/shared/metrics.js';
import { Rng } from '../../src/shared/rng.js';
import { addUpscaler, initPair, recurrentUp, type PairArch } from '../../src/train/nets.js';
import type { Params } from '../../src/train/params.js';
import { buildRecurrentObjective } from '../../src/train/recurrent.js';
import { buildSequences, type SequenceSet } from '../../src/train/sequences.js';
import { trainUpOnSequences, VIDEO_TRAIN_DEFAULTS } from '../../src/train/video.js';
import { SequenceUpscaler } from '../../src/train/video-run.js';
import { widenUp } from '../../src/train/widen.js';
import { genBlocks, genImage, TINY } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'hcd-video-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function jittered(p: Params, seed: number): Params {
  const rng = new Rng(seed);
  for (const v of p.values()) for (let i = 0; i < v.data.length; i++) v.data[i] += 0.05 * rng.normal();
  return p;
}

async function upOf(p: Params, arch: PairArch, x: Float32Array, prev?: Float32Array): Promise<Float32Array> {
  const g = new GraphBuilder('u');
  addUpscaler(g, p, arch, g.input('x', [1, 3, 8, 8]), 'y', 'up', prev ? g.input('prev', [1, 3, 16, 16]) : undefined);
  g.output('y', [1, 3, 16, 16]);
  const feeds: Record<string, ort.Tensor> = { x: new ort.Tensor('float32', x, [1, 3, 8, 8]) };
  if (prev) feeds.prev = new ort.Tensor('float32', prev, [1, 3, 16, 16]);
  return (await (await createSession(g.toModel())).run(feeds)).y.data as Float32Array;
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('a wider, deeper U grown from a trained one', () => {
  const rng = new Rng(4);
  const x = Float32Array.from({ length: 3 * 64 }, () => rng.next());
  const prev = Float32Array.from({ length: 3 * 256 }, () => rng.next());
  const big: PairArch = { ...TINY, upChannels: 7, upHidden: 3 };

  it('computes exactly what it was grown from, and differs once its new weights move', async () => {
    const small = jittered(initPair(TINY, new Rng(1)), 2);
    const grown = widenUp(small, TINY, big, new Rng(3));
    expect(grown.get('up.c3.w')!.dims).toEqual([7, 7, 3, 3]);
    expect(maxDiff(await upOf(small, TINY, x), await upOf(grown, big, x))).toBeLessThan(1e-5);
    grown.get('up.out.w')!.data[6 * 9 + 4] += 0.5; // a new channel's way out
    expect(maxDiff(await upOf(small, TINY, x), await upOf(grown, big, x))).toBeGreaterThan(1e-3);
  });

  it('keeps a recurrent first conv recurrent', async () => {
    const small = jittered(recurrentUp(initPair(TINY, new Rng(1)), 2), 5);
    const grown = widenUp(small, TINY, big, new Rng(3));
    expect(grown.get('up.c0.w')!.dims).toEqual([7, 15, 3, 3]);
    expect(maxDiff(await upOf(small, TINY, x, prev), await upOf(grown, big, x, prev))).toBeLessThan(1e-5);
  });
});

describe('U trained on x264-decoded sequences', () => {
  let set: SequenceSet;
  const out = join(dir, 'set');
  const frames = (id: string, file: string) => new Uint8Array(readFileSync(join(out, id, file)));
  /** PSNR-Y of U on every decoded frame of every sequence against its HR frame, run as a stream. */
  async function score(p: Params, recurrent: boolean): Promise<number> {
    const up = await SequenceUpscaler.create(p, TINY, recurrent, 1);
    let sum = 0;
    let n = 0;
    const { width: w, height: h } = set.lrSize;
    for (const s of set.sequences) {
      const dec = frames(s.id, s.decoded[34]);
      const hr = frames(s.id, s.hr);
      for (let t = 0; t < set.settings.frames; t++) {
        const y = await up.run({ width: w, height: h, data: dec.subarray(t * w * h * 3, (t + 1) * w * h * 3) }, t === 0);
        sum += psnrY(y.data, hr.subarray(t * w * h * 12, (t + 1) * w * h * 12), 2 * w, 2 * h, { crop: 4 });
        n++;
      }
    }
    await up.close();
    return sum / n;
  }

  it('learns from the real codec: a few dozen steps beat the bicubic U it starts as, on real decoded pixels', async () => {
    const pair = await loadPair('hcd-x2');
    set = await buildSequences(out, pair, [genBlocks(160, 160, 1), genBlocks(160, 160, 2), genImage(160, 160, 3)], 3, { pair: 'hcd-x2', size: { width: 64, height: 64 }, frames: 6, fps: 24, crfs: [34], preset: 'medium', seed: 2 });
    const init = initPair(TINY, new Rng(1)); // U's output conv starts at zero: U is bicubic x2
    const before = await score(init, false);
    const steps: number[] = [];
    const trained = await trainUpOnSequences(init, TINY, set, out, { ...VIDEO_TRAIN_DEFAULTS, steps: 80, batch: 4, crop: 16, unroll: 1, adam: { ...VIDEO_TRAIN_DEFAULTS.adam, lr: 3e-3, warmup: 5 }, threads: 1 }, (s) => steps.push(s.psnr));
    expect(steps).toHaveLength(80);
    const after = await score(trained, false);
    expect(after).toBeGreaterThan(before + 0.3);
    // only U moves: D made the frames
    expect(trained.get('down.c0.w')!.data).toEqual(init.get('down.c0.w')!.data);
  }, 120_000);

  it('runs a recurrent U as its training graph does, and a reset forgets the previous frames', async () => {
    const p = jittered(recurrentUp(initPair(TINY, new Rng(1)), 2), 9);
    const { width: w, height: h } = set.lrSize;
    const seq = set.sequences[0];
    const dec = frames(seq.id, seq.decoded[34]);
    const lr = (t: number) => ({ width: w, height: h, data: dec.slice(t * w * h * 3, (t + 1) * w * h * 3) });
    const planar = (t: number) => {
      const f = lr(t).data;
      return Float32Array.from({ length: 3 * w * h }, (_, i) => f[(i % (w * h)) * 3 + Math.floor(i / (w * h))] / 255);
    };
    // the unroll from zeros, 3 frames
    const sess = await createSession(buildRecurrentObjective(p, TINY, 3, true));
    const feeds: Record<string, ort.Tensor> = { prev: new ort.Tensor('float32', new Float32Array(3 * 4 * w * h), [1, 3, 2 * h, 2 * w]) };
    for (let t = 0; t < 3; t++) {
      feeds[`lr${t}`] = new ort.Tensor('float32', planar(t), [1, 3, h, w]);
      feeds[`hr${t}`] = new ort.Tensor('float32', new Float32Array(3 * 4 * w * h), [1, 3, 2 * h, 2 * w]);
    }
    const r = await sess.run(feeds);
    const up = await SequenceUpscaler.create(p, TINY, true, 1);
    const streamed = [];
    for (let t = 0; t < 3; t++) streamed.push(await up.run(lr(t), t === 0));
    for (let t = 0; t < 3; t++) {
      const y = r[`y${t}`].data as Float32Array;
      const n = 4 * w * h;
      const diff = streamed[t].data.reduce((m, v, i) => Math.max(m, Math.abs(v - Math.min(255, Math.max(0, Math.round(y[(i % 3) * n + Math.floor(i / 3)] * 255))))), 0);
      expect(diff).toBeLessThanOrEqual(1);
    }
    // frame 2 after frames 0-1 is not frame 2 alone; after a reset it is
    const fresh = await SequenceUpscaler.create(p, TINY, true, 1);
    const alone = await fresh.run(lr(2), true);
    expect(maxDiff(Float32Array.from(alone.data), Float32Array.from(streamed[2].data))).toBeGreaterThan(2);
    const again = await up.run(lr(2), true);
    expect(Array.from(again.data)).toEqual(Array.from(alone.data));
    await up.close();
    await fresh.close();
  }, 60_000);
});
