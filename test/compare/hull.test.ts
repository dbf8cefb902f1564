import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSample } from '../../samples/make-sample.js';
import { checkHull, resolvePipelines } from '../../src/compare/pipelines.js';
import { runCompare, type CompareReport } from '../../src/compare/run.js';
import { cropMultiple, lrSize, scaleFraction } from '../../src/compare/scales.js';
import { compareLadder, resolveCompareConfig } from '../../src/config.js';
import { HcdError } from '../../src/shared/errors.js';

let dir: string;
let clip: string;
let report: CompareReport;
const HULL = ['A', 'B34', 'B', 'B4'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hcd-hull-'));
  // 172x100 is no multiple of 8: the source is cropped to 168x96 so that 3/4 and 1/4 are whole and even
  clip = await makeSample(join(dir, 'clip.mp4'), { seconds: 1, width: 172, height: 100, fps: 12 });
  const pipelines = await resolvePipelines([...HULL, 'C4'], { scale: 2, model4: 'bicubic-x4', threads: 1 });
  report = await runCompare({ input: clip, outDir: join(dir, 'out'), crfs: [20, 32], hullCrfs: [44], pipelines, threads: 1 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sizes of the rungs', () => {
  it('3/4 and 1/4 need a multiple of 8, 1/2 of 4; every size is whole and even', () => {
    expect(scaleFraction(4 / 3)).toEqual([4, 3]);
    expect(scaleFraction(2)).toEqual([2, 1]);
    expect(cropMultiple([1])).toBe(2);
    expect(cropMultiple([1, 2])).toBe(4);
    expect(cropMultiple([1, 4 / 3])).toBe(8);
    expect(cropMultiple([1, 4 / 3, 2, 4])).toBe(8);
    expect(lrSize({ width: 640, height: 360 }, 4 / 3)).toEqual({ width: 480, height: 270 });
    expect(lrSize({ width: 640, height: 360 }, 4)).toEqual({ width: 160, height: 90 });
    // 644 is a multiple of 4 but not of 8: 3/4 of it is 483, odd
    expect(() => lrSize({ width: 644, height: 360 }, 4 / 3)).toThrow(/not a whole even size/);
  });

  it('the default ladder is source, 3/4, 1/2 and 1/4 at any --scale', () => {
    expect(compareLadder(2)).toEqual(['A', 'B34', 'B', 'B4']);
    expect(compareLadder(4)).toEqual(['A', 'B34', 'B2', 'B']);
    const c = resolveCompareConfig({});
    expect(c.pipelines).toEqual(['A', 'B34', 'B', 'B4']);
    expect(c.hull).toEqual(['A', 'B34', 'B', 'B4']);
    expect(resolveCompareConfig({ scale: 4 }).hull).toEqual(['A', 'B34', 'B2', 'B']);
    expect(() => checkHull(['A', 'C'])).toThrow(HcdError);
    expect(() => resolveCompareConfig({ pipelines: ['A', 'A'] })).toThrow(/twice/);
  });
});

describe('the multi-resolution hull', () => {
  it('encodes every rung at a whole even size of the cropped source', () => {
    expect([report.input.width, report.input.height]).toEqual([168, 96]);
    const sizes = Object.fromEntries(report.pipelines.map((p) => [p.id, [p.lr_width, p.lr_height]]));
    expect(sizes).toEqual({ A: [168, 96], B34: [126, 72], B: [84, 48], B4: [42, 24], C4: [42, 24] });
    for (const p of report.points) {
      expect([p.width, p.height]).toEqual(sizes[p.pipeline]);
      expect(p.width % 2 + (p.height % 2)).toBe(0);
    }
    expect(report.pipelines.find((p) => p.id === 'B34')!.label).toBe('bicubic to 3/4 size, x264, bicubic up');
  });

  it('is the best of A, B34, B and B4, which get the hull CRFs', () => {
    expect(report.bd.hull_anchor).toEqual(HULL);
    expect(report.bd.hull_missing).toEqual([]);
    const crfs = (id: string) => report.points.filter((p) => p.pipeline === id).map((p) => p.crf);
    for (const id of HULL) expect(crfs(id)).toEqual([20, 32, 44]);
    expect(crfs('C4')).toEqual([20, 32]);
    for (const id of HULL) {
      expect(report.bd_rate_vs_hull[id]!).toBeGreaterThanOrEqual(-1e-6);
      expect(report.bd_rate_vs_hull_low[id]!).toBeGreaterThanOrEqual(-1e-6);
    }
    // the lowest rates belong to the small rungs: B4 at CRF 44 is the cheapest point of all
    const cheapest = report.points.reduce((a, b) => (b.bitrate_kbps < a.bitrate_kbps ? b : a));
    expect(cheapest.pipeline).toBe('B4');
  });

  it('a narrower hull set leaves the others out of the hull and its CRFs, and says what it lacks', async () => {
    const pipelines = await resolvePipelines(['A', 'B34', 'B'], { scale: 2 });
    const r = await runCompare({ input: clip, outDir: join(dir, 'out-ab'), crfs: [20, 32], hullCrfs: [44], hull: ['A', 'B', 'B4'], pipelines, threads: 1 });
    expect(r.bd.hull_anchor).toEqual(['A', 'B']);
    expect(r.bd.hull_missing).toEqual(['B4']);
    expect(r.points.filter((p) => p.pipeline === 'B34').map((p) => p.crf)).toEqual([20, 32]);
    expect(r.bd_rate_vs_hull.B34).not.toBeNull();
  });
});

describe('the learned x4 pipeline C4', () => {
  it('with the bicubic x4 pair lands on B4 (same kernel through the pair and upscaler code)', () => {
    for (const crf of [20, 32]) {
      const b = report.points.find((p) => p.pipeline === 'B4' && p.crf === crf)!;
      const c = report.points.find((p) => p.pipeline === 'C4' && p.crf === crf)!;
      expect(Math.abs(c.psnr_y - b.psnr_y)).toBeLessThan(0.5);
      expect(Math.abs(c.bitrate_kbps / b.bitrate_kbps - 1)).toBeLessThan(0.15);
    }
    expect(Object.keys(report.bd_rate_between)).toEqual(['C4 vs B4']);
    expect(report.bd_rate_vs_hull.C4).not.toBeUndefined();
  });

  it('picks hcd-x4 by default and runs beside the x2 pair; an x2 pair is refused', async () => {
    const [c, c4] = await resolvePipelines(['C', 'C4'], { scale: 2, model: 'bicubic-x2', threads: 1 });
    expect(c4.label).toBe('hcd-x4 down, x264, hcd-x4 up');
    expect([c.scale, c4.scale]).toEqual([2, 4]);
    const r = await runCompare({ input: clip, outDir: join(dir, 'out-c4'), crfs: [24, 36], pipelines: [c, c4], threads: 1 });
    expect(r.pipelines.map((p) => [p.id, p.lr_width, p.lr_height])).toEqual([['C', 84, 48], ['C4', 42, 24]]);
    expect(Object.keys(r.bd_rate_between)).toEqual(['C4 vs C']);
    for (const p of r.points.filter((q) => q.pipeline === 'C4')) expect(p.psnr_y).toBeGreaterThan(14);
    await expect(resolvePipelines(['C4'], { scale: 2, model4: 'bicubic-x2' })).rejects.toThrow(/C4 needs an x4 pair/);
  });
});
