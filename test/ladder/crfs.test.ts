import { describe, expect, it } from 'vitest';
import { beatenAtTop, curveOf, qualityAt } from '../../src/encoder/ladder/choose.js';
import { ALL_CRFS, crfsOf, FIRST_SPAN, widen, type CrfSpan, type RateRange } from '../../src/encoder/ladder/crfs.js';
import { PROBE } from '../../src/encoder/ladder/options.js';
import type { ProbePoint } from '../../src/encoder/ladder/probe.js';

/** x264-like rates: halving every 6 CRF, `base` bits/s at CRF 30. */
const rateAt = (base: number, crf: number) => base * 2 ** ((30 - crf) / 6);
const ratesOf = (base: number, crfs: readonly number[]) => new Map(crfs.map((c) => [c, rateAt(base, c)]));
const range = { min: 150_000, max: 1_600_000 };

/** What the probe does on one window: measure the span, widen, until nothing is missing. */
function settle(span: CrfSpan, base: number, r: RateRange): CrfSpan {
  for (;;) {
    const next = widen(span, ratesOf(base, crfsOf(span)), r);
    if (next.missing.length === 0) return next.span;
    span = next.span;
  }
}

describe('probe CRF spans', () => {
  it('start at the middle CRF', () => {
    expect(crfsOf(FIRST_SPAN)).toEqual([30]);
  });

  it('widen to the last CRF at or above the top target and the first at or below the lowest', () => {
    // 30: 400k; 24: 800k, 18: 1.6M; 36: 200k, 42: 100k
    expect(crfsOf(settle(FIRST_SPAN, 400_000, range))).toEqual([18, 24, 30, 36, 42]);
  });

  it('ask one CRF a side at a time, for what the window has not measured', () => {
    const r = widen(FIRST_SPAN, ratesOf(400_000, [30]), range);
    expect(r.missing.sort()).toEqual([24, 36]);
    expect(crfsOf(r.span)).toEqual([24, 30, 36]);
  });

  it('stop at the end CRF where a candidate cannot reach a target', () => {
    expect(crfsOf(settle(FIRST_SPAN, 20_000, range))).toEqual([18, 24, 30]); // 18: 80k, below every target
    expect(crfsOf(settle(FIRST_SPAN, 20_000_000, range))).toEqual([30, 36, 42, 48]); // 48: 2.5M, above every target
    expect(settle(FIRST_SPAN, 400_000, { min: 1, max: 1e12 })).toEqual(ALL_CRFS);
  });

  it('leave a span alone on a window whose rates already reach past both ends', () => {
    const span = settle(FIRST_SPAN, 400_000, range);
    expect(widen(span, ratesOf(400_000, crfsOf(span)), range)).toEqual({ span, missing: [], held: false });
  });

  it('grow toward higher rates only as the larger candidates allow', () => {
    // held: the low end widens, the high end waits and says so
    const held = widen(FIRST_SPAN, ratesOf(400_000, [30]), range, 'held');
    expect(crfsOf(held.span)).toEqual([30, 36]);
    expect(held).toMatchObject({ missing: [36], held: true });
    // capped: the span is final without reaching the top target
    expect(widen(held.span, ratesOf(400_000, [30, 36]), range, 'capped')).toMatchObject({ missing: [42], held: false });
    expect(widen({ from: 2, to: 4 }, ratesOf(400_000, [30, 36, 42]), range, 'capped')).toEqual({ span: { from: 2, to: 4 }, missing: [], held: false });
    // nothing to hold where the rates already reach past the top target
    expect(widen(FIRST_SPAN, ratesOf(2_000_000, [30]), range, 'held').held).toBe(false);
  });

  it('are capped where a larger candidate is ahead at the top rate by more than the margin', () => {
    const pt = (kbps: number, psnr_y: number) => ({ crf: 30, kbps, psnr_y, vmaf: psnr_y * 2 });
    const own = [pt(50, 25), pt(100, 27)];
    const larger = [pt(80, 26), pt(200, 30)]; // at 100 kb/s: 26 + 4·log(100/80)/log(200/80) = 26.97
    expect(beatenAtTop(own, [larger], 'psnr_y', 0.1)).toBe(false);
    expect(beatenAtTop(own, [[pt(80, 27), pt(200, 31)]], 'psnr_y', 0.1)).toBe(true);
    // within the margin, or where the larger curve does not reach the top rate: not capped
    expect(beatenAtTop(own, [[pt(80, 26.2), pt(200, 30.2)]], 'psnr_y', 0.5)).toBe(false);
    expect(beatenAtTop(own, [[pt(120, 40), pt(200, 45)]], 'psnr_y', 0.1)).toBe(false);
    expect(beatenAtTop(own, [], 'psnr_y', 0.1)).toBe(false);
    // by the ladder's metric
    expect(beatenAtTop(own, [[pt(80, 27), pt(200, 31)]], 'vmaf', 1)).toBe(true);
  });

  it('give the same curve over the targets as every CRF does, on every window and every subset of them', () => {
    // three windows of different complexity: the first needs 24..42, the second widens to 48
    // (42 gives it 175k); the first window then gets 48 too, as the probe's last pass does
    const targets = { min: 150_000, max: 800_000 };
    const bases = [400_000, 700_000, 420_000];
    let span = FIRST_SPAN;
    for (const b of bases) span = settle(span, b, targets);
    expect(crfsOf(span)).toEqual([24, 30, 36, 42, 48]);
    const pts = (crfs: readonly number[]): ProbePoint[] =>
      bases.flatMap((b, window) => crfs.map((crf) => ({ window, crf, frames: 48, bits: (rateAt(b, crf) * 48) / 24, psnr_y: 20 + crf / 10 + window, vmaf: null })));
    for (const windows of [new Set([0, 1, 2]), new Set([0, 1]), new Set([1, 2]), new Set([0, 2])]) {
      const full = curveOf(pts(PROBE.crfs), windows, 24);
      const kept = curveOf(pts(crfsOf(span)), windows, 24);
      expect(kept.length).toBeLessThan(full.length);
      for (const kbps of [150, 200, 400, 600, 800]) expect(qualityAt(kept, kbps)).toEqual(qualityAt(full, kbps));
    }
  });

  it('pool a CRF into a curve only where every window has it', () => {
    const p = (window: number, crf: number): ProbePoint => ({ window, crf, frames: 48, bits: rateAt(400_000, crf) * 2, psnr_y: 30, vmaf: null });
    const curve = curveOf([p(0, 18), p(0, 24), p(1, 24), p(0, 30), p(1, 30)], new Set([0, 1]), 24);
    expect(curve.map((c) => c.crf).sort()).toEqual([24, 30]);
  });
});
