/**
 * The report's BD tables from the measured RD points: against A (the source resolution), against
 * the hull (the best of the conventional pipelines at each quality), over the full range and
 * over each pipeline's low-bitrate range, on any quality axis the rows carry.
 */
import { bdPsnr, bdRate, bdRateVsBest, bestGapShare, type RdPoint } from '../shared/bdrate.js';
import type { CompareReport, OtherMetricBd, RdRow } from './types.js';

export type BdMetric = 'psnr_y' | 'psnr_yuv' | 'ssim_y' | 'vmaf';
type Table = Record<string, number | null>;

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** A BD value, or null where it is undefined (no overlap, or a curve that cannot be interpolated). */
function safe(f: () => number): number | null {
  try {
    return finite(f());
  } catch {
    return null;
  }
}

/** VMAF's scores are clipped to 0-100. */
const VMAF_RANGE: [number, number] = [0, 100];

/**
 * A bounded score's clipped points past the first: a run of points at the floor (or the ceiling)
 * says only that the curve is off the scale there, and its repeated values cannot be interpolated
 * through, which would leave every BD figure on that curve (and on a hull it is part of) undefined.
 * Keeps the floor point with the highest rate and the ceiling point with the lowest.
 */
function dropClipped(c: RdPoint[], [lo, hi]: [number, number]): RdPoint[] {
  const sorted = [...c].sort((a, b) => a.bitrate - b.bitrate);
  const lastFloor = sorted.findLastIndex((p) => p.psnr <= lo);
  const firstCeiling = sorted.findIndex((p) => p.psnr >= hi);
  return sorted.filter((p, i) => (p.psnr > lo || i === lastFloor) && (p.psnr < hi || i === firstCeiling));
}

/** One pipeline's measured points on the given quality axis (points without a score left out; VMAF's clipped runs cut to one point). */
export function curveOf(rows: RdRow[], id: string, metric: BdMetric = 'psnr_y'): RdPoint[] {
  const out: RdPoint[] = [];
  for (const r of rows) {
    const q = r[metric];
    if (r.pipeline === id && q !== null) out.push({ bitrate: r.bitrate_kbps, psnr: q });
  }
  return metric === 'vmaf' ? dropClipped(out, VMAF_RANGE) : out;
}

/** The hull pipelines' curves on one quality axis (those with enough points to interpolate). */
const hullCurves = (rows: RdRow[], hull: string[], metric: BdMetric): RdPoint[][] => hull.map((id) => curveOf(rows, id, metric)).filter((c) => c.length >= 2);

/** BD-rate against A and against the hull over the full range; BD-PSNR against A. */
export function fullTables(rows: RdRow[], ids: string[], hull: string[], metric: BdMetric) {
  const vsSource: Table = {};
  const psnrVsSource: Table = {};
  const vsHull: Table = {};
  const anchors = hullCurves(rows, hull, metric);
  const a = curveOf(rows, 'A', metric);
  for (const id of ids) {
    const c = curveOf(rows, id, metric);
    if (c.length < 2) continue;
    if (ids.includes('A') && id !== 'A') {
      vsSource[id] = safe(() => bdRate(a, c));
      psnrVsSource[id] = safe(() => bdPsnr(a, c));
    }
    if (anchors.length > 0) vsHull[id] = safe(() => bdRateVsBest(anchors, c));
  }
  return { vsSource, psnrVsSource, vsHull };
}

/** The points a downscaled rendition is meant for: the lower-rate half (at least two). */
function lowHalf(c: RdPoint[]): { kbps: [number, number]; q: [number, number] } {
  const low = [...c].sort((a, b) => a.bitrate - b.bitrate).slice(0, Math.max(2, Math.ceil(c.length / 2)));
  const qs = low.map((p) => p.psnr);
  return { kbps: [low[0].bitrate, low[low.length - 1].bitrate], q: [Math.min(...qs), Math.max(...qs)] };
}

/** Each pipeline's hull BD-rate over its low-bitrate range, that range, and the hull's gaps. */
export function lowTables(rows: RdRow[], ids: string[], hull: string[], metric: BdMetric) {
  const vsHullLow: Table = {};
  const ranges: Record<string, { kbps: [number, number]; q: [number, number] }> = {};
  const gaps: Record<string, { full: number | null; low: number | null }> = {};
  const anchors = hullCurves(rows, hull, metric);
  if (anchors.length === 0) return { vsHullLow, ranges, gaps };
  for (const id of ids) {
    const c = curveOf(rows, id, metric);
    if (c.length < 2) continue;
    const r = lowHalf(c);
    ranges[id] = r;
    vsHullLow[id] = safe(() => bdRateVsBest(anchors, c, { range: r.q }));
    gaps[id] = { full: safe(() => bestGapShare(anchors, c)), low: safe(() => bestGapShare(anchors, c, { range: r.q })) };
  }
  return { vsHullLow, ranges, gaps };
}

/** The four BD tables on a quality axis other than PSNR-Y. */
function otherMetric(rows: RdRow[], ids: string[], hull: string[], metric: BdMetric): OtherMetricBd {
  const full = fullTables(rows, ids, hull, metric);
  const low = lowTables(rows, ids, hull, metric);
  const lowRange = Object.fromEntries(Object.entries(low.ranges).map(([id, r]) => [id, r.q]));
  return { vs_source: full.vsSource, vs_hull: full.vsHull, vs_hull_low: low.vsHullLow, low_range: lowRange };
}

/** PSNR-YUV and SSIM-Y always; VMAF when every point has a score. */
export function otherMetrics(rows: RdRow[], ids: string[], hull: string[]): CompareReport['bd_rate_other_metrics'] {
  const out: CompareReport['bd_rate_other_metrics'] = { psnr_yuv: otherMetric(rows, ids, hull, 'psnr_yuv'), ssim_y: otherMetric(rows, ids, hull, 'ssim_y') };
  if (rows.length > 0 && rows.every((r) => r.vmaf !== null)) out.vmaf = otherMetric(rows, ids, hull, 'vmaf');
  return out;
}

/** Neighbours in the method's ladder, compared directly over their common range. */
const LADDER: [string, string][] = [['C', 'B'], ['D', 'C'], ['E', 'D'], ['E', 'C'], ['C4', 'B4'], ['C4', 'C']];

export function between(rows: RdRow[], ids: string[]): Table {
  const out: Table = {};
  for (const [test, ref] of LADDER) if (ids.includes(test) && ids.includes(ref)) out[`${test} vs ${ref}`] = safe(() => bdRate(curveOf(rows, ref), curveOf(rows, test)));
  return out;
}
