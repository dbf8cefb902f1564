/**
 * Which probe CRFs a candidate needs. A point matters to the choice only where it is one of the
 * two that bracket a target rate: points beyond the first one below the lowest target (or above
 * the highest) never enter an interpolation. Each candidate starts at the middle CRF and widens
 * its span a CRF at a time, on each window, until that window's rates reach past both ends of the
 * targets (or the span holds the last CRF on that side). The windows share each candidate's span
 * as it grows, and a window measured before it grew gets its new CRFs too. On every window,
 * and so on every pooled curve, the span reaches past the targets. x264's rate falls as CRF
 * rises, so the curves over the targets are those every CRF would have given, and the choice is
 * the same. A smaller candidate's span stops short of the top target where a larger one is
 * already ahead of it (beatenAtTop in choose.ts): above that rate it could be neither chosen nor
 * the best conventional rung.
 */
import { PROBE } from './options.js';

/** The rates the ladder's targets span, bits/s. */
export interface RateRange {
  min: number;
  max: number;
}

/** A contiguous run of PROBE.crfs, by index. */
export interface CrfSpan {
  from: number;
  to: number;
}

export const crfsOf = (s: CrfSpan): number[] => PROBE.crfs.slice(s.from, s.to + 1);

export const ALL_CRFS: CrfSpan = { from: 0, to: PROBE.crfs.length - 1 };

/** Where every candidate starts: the middle CRF. */
export const FIRST_SPAN: CrfSpan = { from: Math.floor((PROBE.crfs.length - 1) / 2), to: Math.floor((PROBE.crfs.length - 1) / 2) };

/**
 * How the span may grow toward higher rates (lower CRFs) on this window: 'open' until the rates
 * reach past the top target; 'held' while that waits on the larger candidates (a widening it
 * would make is reported as `held`, not made); 'capped' where a larger conventional candidate
 * already beats this one at its highest measured rate (beatenAtTop in choose.ts), so that this
 * one cannot be chosen, nor be the best conventional one, at any rate above it.
 */
export type TopRule = 'open' | 'held' | 'capped';

/**
 * Widens `span` until the window's measured rates (bits/s by CRF; must hold every CRF of the
 * span) reach the targets at both ends: a CRF whose rate is at or above `max` at its low end and
 * one at or below `min` at its high end, or the last CRF there is, or (at the low-CRF end) as
 * `top` allows. Returns the span, the CRFs it needs measured on this window before it can say
 * (none: the span is final here, as far as `top` lets it say), and whether `top` held it back.
 */
export function widen(span: CrfSpan, rates: ReadonlyMap<number, number>, range: RateRange, top: TopRule = 'open'): { span: CrfSpan; missing: number[]; held: boolean } {
  const rate = (i: number): number | undefined => rates.get(PROBE.crfs[i]);
  let { from, to } = span;
  const missing: number[] = [];
  const lowEnough = (r: number | undefined) => r !== undefined && r <= range.min;
  const highEnough = (r: number | undefined) => r !== undefined && r >= range.max;
  if (!lowEnough(rate(to)) && to < PROBE.crfs.length - 1) {
    to += 1;
    if (rate(to) === undefined) missing.push(PROBE.crfs[to]);
  }
  const wantsTop = !highEnough(rate(from)) && from > 0;
  if (wantsTop && top === 'open') {
    from -= 1;
    if (rate(from) === undefined) missing.push(PROBE.crfs[from]);
  }
  const grew = from !== span.from || to !== span.to;
  return grew && missing.length === 0 ? widen({ from, to }, rates, range, top) : { span: { from, to }, missing, held: wantsTop && top === 'held' };
}
