import { describe, expect, it } from 'vitest';
import { bdPsnr, bdRate, bdRateVsBest, bestEnvelope, bestGapShare, convexHull, pchipSlopes, type RdPoint } from '../../src/shared/bdrate.js';

const curve = (rates: number[], psnrs: number[]): RdPoint[] => rates.map((bitrate, i) => ({ bitrate, psnr: psnrs[i] }));

/**
 * "Test 1" of the FAU-LMS `bjontegaard` Python package (README and example_usage.py, BSD-3-Clause;
 * x265 presets measured with ffmpeg). Expected values were computed outside this code base:
 * pchip with scipy 1.17.1 `PchipInterpolator(...).integrate` exactly as in the package's
 * bd_piecewise_cubic.py, and re-checked with a Python port of the JCT-VC CTC Excel sheet's
 * integration (same to 1e-13); cubic with numpy.polyfit/polyint as in VCEG-M33's bjontegaard.m.
 * The cubic BD-rate also appears, independently computed, as -4.420462706090111 in other
 * projects' tests.
 */
const FAU_ANCHOR = curve([9487.76, 4593.6, 2486.44, 1358.24], [40.037, 38.615, 36.845, 34.851]);
const FAU_TEST = curve([9787.8, 4469.0, 2451.52, 1356.24], [40.121, 38.651, 36.97, 34.987]);

/**
 * The worked example shipped with G. Valenzise's bjontegaard.m (MATLAB File Exchange 27798) and its
 * Python ports (e.g. Anserw/Bjontegaard_metric demo): cubic BD-rate 31.3973740549 %, reproduced
 * here with numpy; pchip via scipy as above.
 */
const VCEG_ANCHOR = curve([686.76, 309.58, 157.11, 85.95], [40.28, 37.18, 34.24, 31.42]);
const VCEG_TEST = curve([893.34, 407.8, 204.93, 112.75], [40.39, 37.21, 34.17, 31.24]);

/** FAU "Test 3": six points, where pchip and the single cubic disagree strongly. */
const FAU3_ANCHOR = curve([82472.76, 26875.24, 9487.76, 4593.6, 3600, 2900], [43.825, 41.404, 40.037, 38.615, 36.5, 35.1]);
const FAU3_TEST = curve([99896.96, 33952.04, 9787.8, 4469.0, 4040, 3300], [44.731, 41.875, 40.121, 38.651, 37, 36.5]);

describe('BD-rate / BD-PSNR reference values', () => {
  it('pchip (CTC) matches the reference implementation', () => {
    expect(bdRate(FAU_ANCHOR, FAU_TEST)).toBeCloseTo(-4.417485350589045, 9);
    expect(bdPsnr(FAU_ANCHOR, FAU_TEST)).toBeCloseTo(0.11969278542479489, 9);
    expect(bdRate(VCEG_ANCHOR, VCEG_TEST, { method: 'pchip' })).toBeCloseTo(31.379878202397627, 9);
    expect(bdPsnr(VCEG_ANCHOR, VCEG_TEST, { method: 'pchip' })).toBeCloseTo(-1.1834724046224592, 9);
    expect(bdRate(FAU3_ANCHOR, FAU3_TEST)).toBeCloseTo(-2.9528024116427964, 9);
    expect(bdPsnr(FAU3_ANCHOR, FAU3_TEST)).toBeCloseTo(0.08953590194998828, 9);
  });

  it('cubic (VCEG-M33) matches the reference implementation', () => {
    expect(bdRate(FAU_ANCHOR, FAU_TEST, { method: 'cubic' })).toBeCloseTo(-4.4204627060902, 8);
    expect(bdPsnr(FAU_ANCHOR, FAU_TEST, { method: 'cubic' })).toBeCloseTo(0.12040941911496554, 8);
    expect(bdRate(VCEG_ANCHOR, VCEG_TEST, { method: 'cubic' })).toBeCloseTo(31.39737405490792, 8);
    expect(bdPsnr(VCEG_ANCHOR, VCEG_TEST, { method: 'cubic' })).toBeCloseTo(-1.184897921770337, 8);
    // least-squares cubic through 6 points, where it fits poorly
    expect(bdRate(FAU3_ANCHOR, FAU3_TEST, { method: 'cubic' })).toBeCloseTo(-0.6392886208968718, 7);
  });

  it('does not depend on the order of the points', () => {
    const shuffled = [FAU_TEST[2], FAU_TEST[0], FAU_TEST[3], FAU_TEST[1]];
    expect(bdRate(FAU_ANCHOR, shuffled)).toBeCloseTo(bdRate(FAU_ANCHOR, FAU_TEST), 12);
  });
});

describe('BD properties', () => {
  const anchor = curve([200, 400, 800, 1600, 3200], [30.1, 32.9, 35.2, 37.0, 38.4]);
  for (const method of ['pchip', 'cubic'] as const) {
    it(`${method}: identical curves give 0`, () => {
      expect(bdRate(anchor, anchor, { method })).toBeCloseTo(0, 12);
      expect(bdPsnr(anchor, anchor, { method })).toBeCloseTo(0, 12);
    });
    it(`${method}: halving every bitrate at equal PSNR gives -50 %`, () => {
      const half = anchor.map((p) => ({ ...p, bitrate: p.bitrate / 2 }));
      expect(bdRate(anchor, half, { method })).toBeCloseTo(-50, 10);
      const dbl = anchor.map((p) => ({ ...p, bitrate: p.bitrate * 2 }));
      expect(bdRate(anchor, dbl, { method })).toBeCloseTo(100, 10);
    });
    it(`${method}: shifting PSNR by +x dB gives BD-PSNR x`, () => {
      for (const x of [0.37, 1.5]) {
        const up = anchor.map((p) => ({ ...p, psnr: p.psnr + x }));
        expect(bdPsnr(anchor, up, { method })).toBeCloseTo(x, 10);
        expect(bdRate(anchor, up, { method })).toBeLessThan(0);
      }
    });
  }

  it('returns NaN when the ranges do not overlap, and throws on malformed curves', () => {
    const far = anchor.map((p) => ({ bitrate: p.bitrate * 100, psnr: p.psnr + 20 }));
    expect(bdRate(anchor, far)).toBeNaN();
    expect(bdPsnr(anchor, anchor.map((p) => ({ ...p, bitrate: p.bitrate * 1000 })))).toBeNaN();
    expect(() => bdRate(anchor, [anchor[0]])).toThrow(/at least 2/);
    expect(() => bdRate(anchor, [{ bitrate: 0, psnr: 30 }, { bitrate: 10, psnr: 31 }])).toThrow(/positive/);
    expect(() => bdRate(anchor, [{ bitrate: 5, psnr: 30 }, { bitrate: 10, psnr: 30 }])).toThrow(/same/);
  });

  it('pchip slopes are monotone-preserving (zero at a local extremum)', () => {
    const d = pchipSlopes([0, 1, 2, 3], [0, 1, 0.5, 2]);
    expect(d[1]).toBe(0);
    expect(d[2]).toBe(0);
    // on a straight line every slope is the line's slope
    expect(pchipSlopes([0, 1, 3, 4], [1, 3, 7, 9])).toEqual([2, 2, 2, 2]);
  });
});

describe('convexHull', () => {
  it('keeps the best of two curves at each quality and drops dominated and under-chord points', () => {
    const a = curve([100, 200, 400, 800], [30, 32.5, 35, 36]).map((p) => ({ ...p, id: 'A' }));
    const b = curve([150, 300, 600, 1200], [30.5, 34.5, 36.5, 37]).map((p) => ({ ...p, id: 'B' }));
    const hull = convexHull([...a, ...b]);
    const ids = hull.map((p) => `${p.id}${p.bitrate}`);
    // on a linear rate axis: B150 lies under the chord A100-A200 (31.25 dB at 150), A400 under
    // B300-B600 (35.17 dB at 400), A800 is beaten by the cheaper B600; A200 stays (32.5 dB
    // above the A100-B300 chord's 32.25)
    expect(ids).toEqual(['A100', 'A200', 'B300', 'B600', 'B1200']);
    for (let i = 1; i < hull.length; i++) {
      expect(hull[i].bitrate).toBeGreaterThan(hull[i - 1].bitrate);
      expect(hull[i].psnr).toBeGreaterThan(hull[i - 1].psnr);
    }
    // concave: quality per extra kbit/s only falls along the hull
    const slopes = hull.slice(1).map((p, i) => (p.psnr - hull[i].psnr) / (p.bitrate - hull[i].bitrate));
    for (let i = 1; i < slopes.length; i++) expect(slopes[i]).toBeLessThan(slopes[i - 1]);
    // every input point is on or under the hull's piecewise-linear curve
    for (const p of [...a, ...b]) {
      const j = hull.findIndex((h) => h.bitrate >= p.bitrate);
      if (j <= 0) continue;
      const [h0, h1] = [hull[j - 1], hull[j]];
      const onChord = h0.psnr + ((h1.psnr - h0.psnr) * (p.bitrate - h0.bitrate)) / (h1.bitrate - h0.bitrate);
      expect(p.psnr).toBeLessThanOrEqual(onChord + 1e-12);
    }
  });
});

describe('bdRateVsBest (the cheaper of several anchors at each quality)', () => {
  it('with one anchor it is the ordinary BD-rate', () => {
    for (const method of ['pchip', 'cubic'] as const) {
      expect(bdRateVsBest([FAU_ANCHOR], FAU_TEST, { method })).toBeCloseTo(bdRate(FAU_ANCHOR, FAU_TEST, { method }), 5);
      expect(bdRateVsBest([VCEG_ANCHOR], VCEG_TEST, { method })).toBeCloseTo(bdRate(VCEG_ANCHOR, VCEG_TEST, { method }), 5);
    }
  });

  it('follows whichever anchor is cheaper and is never negative for an anchor itself', () => {
    const a = curve([100, 200, 400, 800], [30, 33, 35.5, 37.5]);
    const twice = a.map((p) => ({ ...p, bitrate: p.bitrate * 2 }));
    // one anchor dominates everywhere: the envelope is that anchor
    expect(bdRateVsBest([a, twice], a)).toBeCloseTo(0, 5);
    expect(bdRateVsBest([a, twice], twice)).toBeCloseTo(100, 4);
    // crossing curves: flatter b is cheaper at low quality, a at high quality
    const b = curve([60, 110, 250, 700], [30, 32, 34, 35.5]);
    const ab = bdRateVsBest([a, b], a);
    const bb = bdRateVsBest([a, b], b);
    // neither is the cheaper one everywhere, so both pay something against the envelope
    expect(ab).toBeGreaterThan(0.5);
    expect(bb).toBeGreaterThan(0.5);
    // a curve 10 % cheaper than the envelope everywhere is exactly -10 % against it
    const cheaper = a.map((p) => ({ ...p, bitrate: p.bitrate * 0.9 }));
    expect(bdRateVsBest([a, twice], cheaper)).toBeCloseTo(-10, 6);
    // the plotted envelope is never above either anchor's own interpolated rate
    const env = bestEnvelope([a, b], { samples: 20 });
    expect(env).toHaveLength(21);
    expect(env[0].psnr).toBe(30);
    expect(env[20].psnr).toBe(37.5);
    expect(env[0].bitrate).toBeCloseTo(60, 9); // b is cheaper at 30 dB
    expect(env[20].bitrate).toBeCloseTo(800, 9); // only a reaches 37.5 dB
  });

  it('a quality range restricts the integral, and the gap share tells where the envelope is only extrapolated', () => {
    const a = curve([100, 200, 400, 800], [30, 33, 35.5, 37.5]);
    // cheaper by 20 % below 33 dB, by 5 % above: a range picks the part it covers
    const t = a.map((p) => ({ ...p, bitrate: p.bitrate * (p.psnr <= 33 ? 0.8 : 0.95) }));
    const low = bdRateVsBest([a], t, { range: [30, 33] });
    const high = bdRateVsBest([a], t, { range: [35.5, 37.5] });
    // (not exactly -20 and -5: the pchip slopes at 33 and 35.5 see the other part too)
    expect(low).toBeLessThan(-18);
    expect(low).toBeGreaterThan(-22);
    expect(high).toBeLessThan(-3.5);
    expect(high).toBeGreaterThan(-6.5);
    // with a uniform saving any range inside the curves gives it exactly
    const uniform = a.map((p) => ({ ...p, bitrate: p.bitrate * 0.8 }));
    expect(bdRateVsBest([a], uniform, { range: [31, 34] })).toBeCloseTo(-20, 6);
    expect(bdRateVsBest([a], t)).toBeGreaterThan(low);
    expect(bdRateVsBest([a], t)).toBeLessThan(high);
    // a range outside every curve: undefined
    expect(bdRateVsBest([a], t, { range: [20, 25] })).toBeNaN();
    // two anchors with a gap between their measured ranges (33-35 dB): that part is extrapolation
    const lo = curve([50, 90, 150], [28, 30.5, 33]);
    const hi = curve([300, 500, 900], [35, 36.5, 38]);
    const test = curve([60, 120, 260, 600], [29, 32, 34, 37]);
    expect(bestGapShare([lo, hi], test)).toBeCloseTo(2 / 8, 2);
    expect(bestGapShare([lo, hi], test, { range: [29, 33] })).toBe(0);
    expect(bestGapShare([a], a)).toBe(0);
  });
});
