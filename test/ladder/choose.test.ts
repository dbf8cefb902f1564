import { describe, expect, it } from 'vitest';
import { candidatesFor } from '../../src/encoder/ladder/candidates.js';
import { chooseRungs, curveOf, fitTargets, proxyOptimism, qualityAt, reach, samplingError } from '../../src/encoder/ladder/choose.js';
import { checkLadderOptions, LADDER_DEFAULTS, targetBitrates } from '../../src/encoder/ladder/options.js';
import type { ProbeResult } from '../../src/encoder/ladder/probe.js';
import { neuralChosen } from '../../src/encoder/ladder/report.js';
import { planWindows } from '../../src/encoder/ladder/windows.js';
import { HcdError } from '../../src/shared/errors.js';
import { FPS, points, probeOf, W } from './synthetic.js';

describe('ladder targets and options', () => {
  it('spaces the default targets evenly in log rate, rounded to kb/s', () => {
    const t = targetBitrates(LADDER_DEFAULTS);
    expect(t.explicit).toBe(false);
    expect(t.bitrates).toHaveLength(5);
    expect(t.bitrates[0]).toBe(150_000);
    expect(t.bitrates[4]).toBe(1_600_000);
    const ratios = t.bitrates.slice(1).map((b, i) => b / t.bitrates[i]);
    for (const r of ratios) expect(r).toBeCloseTo((1_600_000 / 150_000) ** 0.25, 2);
  });

  it('takes named targets as they are, sorted', () => {
    expect(targetBitrates({ ...LADDER_DEFAULTS, bitrates: [300_000, 100_000] })).toEqual({ bitrates: [100_000, 300_000], explicit: true });
  });

  it('refuses --rungs 0 and --min-kbps above --max-kbps with one line each', () => {
    const check = (b: number) => expect(b).toBeGreaterThan(0);
    expect(() => checkLadderOptions({ ...LADDER_DEFAULTS, rungs: 0 }, check)).toThrow(/--rungs must be a whole number from 1/);
    expect(() => checkLadderOptions({ ...LADDER_DEFAULTS, minBitrate: 900_000, maxBitrate: 300_000 }, check)).toThrow(/--min-kbps \(900\) is above --max-kbps \(300\)/);
  });

  it('names a target the probe cannot reach; moves default targets to its edge', () => {
    const r = { min: 20_000, max: 700_000 };
    expect(() => fitTargets([10_000, 100_000], true, r)).toThrow(/target bitrate 10 kb\/s is outside what the ladder probe reached \(20-700 kb\/s\)/);
    expect(fitTargets([150_000, 1_600_000], false, r)).toEqual([150_000, 700_000]);
    expect(fitTargets([800_000, 1_600_000], false, r)).toEqual([700_000]);
  });
});

describe('candidates and windows', () => {
  it('has the source, three even-sized bicubic downscales and the pair LR', () => {
    const c = candidatesFor({ width: 640, height: 360 }, 2, true);
    expect(c.map((x) => `${x.id}:${x.kind}:${x.width}x${x.height}`)).toEqual(['source:src:640x360', '3/4:down:480x270', '1/2:down:320x180', '1/4:down:160x90', 'neural-x2:lr:320x180']);
    expect(candidatesFor({ width: 200, height: 112 }, 2, false).every((x) => x.width % 2 === 0 && x.height % 2 === 0 && x.kind !== 'lr')).toBe(true);
  });

  it('spreads windows over the title, 10 % of it and at least 6 s, inside it', () => {
    const long = planWindows(60 * FPS, FPS);
    const sampled = long.reduce((a, w) => a + w.frames, 0);
    expect(sampled / (60 * FPS)).toBeGreaterThanOrEqual(0.1);
    expect(sampled).toBeGreaterThanOrEqual(6 * FPS);
    for (const w of long) expect(w.start + w.frames + w.room).toBeLessThanOrEqual(60 * FPS);
    expect(long[0].start).toBeLessThan(10 * FPS);
    expect(long.at(-1)!.start).toBeGreaterThan(40 * FPS);
    const tenMin = planWindows(600 * FPS, FPS);
    expect(tenMin.reduce((a, w) => a + w.frames, 0) / (600 * FPS)).toBeCloseTo(0.1, 2);
  });

  it('probes a short title whole, as two halves, and refuses one too short for two windows', () => {
    const vid4 = planWindows(41, 25);
    expect(vid4.map((w) => [w.start, w.frames])).toEqual([[0, 20], [20, 20]]);
    expect(vid4.every((w) => w.start + w.frames <= 41)).toBe(true);
    expect(() => planWindows(20, FPS)).toThrow(HcdError);
    expect(() => planWindows(20, FPS)).toThrow(/shorter than one probe window \(1 s: two of 0.5 s at least\)/);
  });
});

describe('curves and the choice', () => {
  it('interpolates linearly in log rate and never extrapolates', () => {
    const curve = curveOf(points(0, 100, 10, 3), new Set([0]), FPS);
    expect(curve.map((p) => p.crf)).toEqual([48, 42, 36, 30, 24, 18]);
    expect(curve[3].kbps).toBeCloseTo(100, 6);
    // exactly linear in log2(kbps) here, so interpolation is exact between points too
    expect(qualityAt(curve, 100)!.psnr_y).toBeCloseTo(10 + 3 * Math.log2(100), 9);
    expect(qualityAt(curve, 150)!.psnr_y).toBeCloseTo(10 + 3 * Math.log2(150), 9);
    expect(qualityAt(curve, curve[0].kbps * 0.99)).toBeUndefined();
    expect(qualityAt(curve, curve[5].kbps * 1.01)).toBeUndefined();
  });

  it('pools windows: bits over seconds, quality weighted by frames', () => {
    const a = points(0, 100, 10, 3);
    const b = points(1, 300, 10, 3).map((p) => ({ ...p, frames: 3 * W, bits: p.bits * 3 }));
    const c = curveOf([...a, ...b], new Set([0, 1]), FPS).find((p) => p.crf === 30)!;
    expect(c.kbps).toBeCloseTo((100 * 2 + 300 * 6) / 8, 6);
    expect(c.psnr_y).toBeCloseTo((1 * (10 + 3 * Math.log2(100)) + 3 * (10 + 3 * Math.log2(300))) / 4, 9);
  });

  it("computes the jackknife standard error of the neural rung's advantage", () => {
    const gains = [0.1, 0.5, 0.2, 0.4];
    const p = probeOf(4, (w) => gains[w]);
    const c = { fps: FPS, all: new Set([0, 1, 2, 3]), probe: p };
    // with equal windows the pooled advantage at a rate inside every curve is the mean gain,
    // so the leave-one-out advantages are the means of the other three
    const loo = gains.map((_, i) => gains.filter((__, k) => k !== i).reduce((a, b) => a + b, 0) / 3);
    const m = loo.reduce((a, b) => a + b, 0) / 4;
    const se = Math.sqrt((3 / 4) * loo.reduce((a, b) => a + (b - m) ** 2, 0));
    expect(samplingError(c, 60, 'psnr_y')).toBeCloseTo(se, 9);
    expect(samplingError({ ...c, all: new Set([0]) }, 60, 'psnr_y')).toBe(Infinity);
  });

  it('chooses neural only where its advantage beats the probe error, and says why', () => {
    // a steady 0.3 dB advantage: zero sampling error, so neural wins where it reaches
    const steady = chooseRungs(probeOf(3, () => 0.3), [40_000, 150_000], FPS, 'psnr_y');
    const at40 = steady[0];
    expect(at40.candidate.kind).toBe('lr');
    expect(at40.neural!.advantage).toBeCloseTo(0.3, 6);
    expect(at40.margin).toBeCloseTo(0.3, 6);
    expect(at40.why).toMatch(/neural beats 1\/2 by 0.300 dB/);
    // 150 kb/s: source is better than 1/2 + 0.3 there
    expect(steady[1].candidate.id).toBe('source');
    // a noisy advantage with the same mean: the jackknife error is larger than the gain
    const noisy = chooseRungs(probeOf(3, (w) => [-0.6, 0.3, 1.2][w]), [40_000], FPS, 'psnr_y')[0];
    expect(noisy.neural!.advantage).toBeCloseTo(0.3, 6);
    expect(noisy.neural!.error).toBeGreaterThan(0.3);
    expect(noisy.candidate.id).toBe('1/2');
    expect(noisy.why).toMatch(/within the probe's error/);
  });

  it("adds the proxy's optimism: HCD measured below the plain pair makes the margin larger", () => {
    const p = probeOf(3, () => 0.3, 0.5);
    const c = { fps: FPS, all: new Set([0, 1, 2]), probe: p };
    expect(proxyOptimism(c, 40, 'psnr_y')).toBeCloseTo(0.5, 6);
    const r = chooseRungs(p, [40_000], FPS, 'psnr_y')[0];
    expect(r.neural!.proxyOptimism).toBeCloseTo(0.5, 6);
    expect(r.candidate.id).toBe('1/2');
    // HCD above the plain pair: the proxy is cautious, no optimism
    expect(proxyOptimism({ ...c, probe: probeOf(3, () => 0.3, -0.5) }, 40, 'psnr_y')).toBe(0);
  });

  it('asks for the HCD proxy window only where a neural rung would be chosen without it', () => {
    const o = { ...LADDER_DEFAULTS, bitrates: [40_000, 150_000] };
    const without = (p: ProbeResult): ProbeResult => ({ ...p, proxy: undefined });
    expect(neuralChosen(without(probeOf(3, () => 0.3)), o, FPS)).toBe(true);
    // behind everywhere, or ahead within the sampling error: the proxy's optimism could only add to the margin
    expect(neuralChosen(without(probeOf(3, () => -0.3)), o, FPS)).toBe(false);
    expect(neuralChosen(without(probeOf(3, (w) => [-0.6, 0.3, 1.2][w])), o, FPS)).toBe(false);
    // and without the proxy, nothing the proxy would have withheld is chosen where it was not before
    const p = probeOf(3, () => 0.3, 0.5);
    expect(chooseRungs(p, [40_000], FPS, 'psnr_y')[0].candidate.id).toBe('1/2');
    expect(chooseRungs(without(p), [40_000], FPS, 'psnr_y')[0].candidate.id).toBe('neural-x2');
  });

  it('chooses by VMAF when asked and reports both metrics', () => {
    const r = chooseRungs(probeOf(3, () => 0.3), [40_000], FPS, 'vmaf')[0];
    // the synthetic VMAF curves are equal for 1/2 and neural: no advantage, conventional kept
    expect(r.candidate.id).toBe('1/2');
    expect(r.predicted.vmaf).toBeCloseTo(50 + 5 * Math.log2(40), 6);
    expect(r.predicted.psnr_y).toBeCloseTo(16 + 2.5 * Math.log2(40), 6);
  });

  it('knows the range every candidate together reaches', () => {
    const r = reach(probeOf(2, () => 0), FPS);
    expect(r.min / 1000).toBeCloseTo(60 * 2 ** -3, 6);
    expect(r.max / 1000).toBeCloseTo(200 * 2 ** 2, 6);
  });
});
