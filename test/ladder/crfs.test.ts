import { describe, expect, it } from 'vitest';
import { ALL_CRFS, crfsOf, FIRST_SPAN, widen, type CrfSpan, type RateRange } from '../../src/encoder/ladder/crfs.js';
import { curveOf, qualityAt } from '../../src/encoder/ladder/choose.js';
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
    expect(widen(span, ratesOf(400_000, crfsOf(span)), range)).toEqual({ span, missing: [] });
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
