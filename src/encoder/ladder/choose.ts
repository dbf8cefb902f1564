import { HcdError } from '../../shared/errors.js';
import type { Candidate } from './candidates.js';
import { PROBE, type LadderMetric } from './options.js';
import type { ProbePoint, ProbeResult } from './points.js';

/** A candidate's rate-quality curve over a set of windows, one point per CRF, rising in rate. */
export interface CurvePoint {
  crf: number;
  kbps: number;
  psnr_y: number;
  vmaf: number | null;
}

export interface Prediction {
  psnr_y: number;
  vmaf: number | null;
}

/** Why a target bitrate got the rung it got. */
export interface RungChoice {
  /** Video bits/s. */
  target: number;
  candidate: Candidate;
  predicted: Prediction;
  /** The best conventional candidate at this rate, and its predicted quality. */
  bestConventional: { id: string } & Prediction;
  /** The chosen rung's quality minus the best conventional one's, in the ladder's metric (0 where that one is chosen). */
  margin: number;
  /** The neural candidate where it reaches this rate: its proxy's prediction, its advantage and the error it had to beat. */
  neural?: { predicted: Prediction; advantage: number; error: number; samplingSe: number; proxyOptimism: number };
  why: string;
}

export const metricOf = (p: Prediction | CurvePoint, m: LadderMetric): number | null => (m === 'vmaf' ? p.vmaf : p.psnr_y);

/**
 * Pools the points of the given windows per CRF: bits over seconds, quality weighted by frames.
 * Only CRFs measured on every one of the windows: the first window holds CRFs the others were
 * spared (crfs.ts), and a point from one window is not the title's.
 */
export function curveOf(points: ProbePoint[], windows: Set<number>, fps: number): CurvePoint[] {
  const byCrf = new Map<number, ProbePoint[]>();
  for (const p of points) if (windows.has(p.window)) byCrf.set(p.crf, [...(byCrf.get(p.crf) ?? []), p]);
  const out: CurvePoint[] = [];
  for (const [crf, ps] of byCrf) {
    if (new Set(ps.map((p) => p.window)).size < windows.size) continue;
    const frames = ps.reduce((a, p) => a + p.frames, 0);
    const bits = ps.reduce((a, p) => a + p.bits, 0);
    const vmafs = ps.map((p) => p.vmaf);
    out.push({
      crf,
      kbps: bits / (frames / fps) / 1000,
      psnr_y: ps.reduce((a, p) => a + p.psnr_y * p.frames, 0) / frames,
      vmaf: vmafs.every((v) => v !== null) ? ps.reduce((a, p) => a + p.vmaf! * p.frames, 0) / frames : null,
    });
  }
  return out.sort((a, b) => a.kbps - b.kbps);
}

/**
 * Quality at `kbps`, linear in log rate between the measured points (piecewise linear cannot
 * overshoot, where a spline through six points can); undefined outside the measured range, as
 * the probe does not extrapolate.
 */
export function qualityAt(curve: CurvePoint[], kbps: number): Prediction | undefined {
  if (curve.length === 0 || kbps < curve[0].kbps || kbps > curve[curve.length - 1].kbps) return undefined;
  const i = Math.max(1, curve.findIndex((p) => p.kbps >= kbps));
  const a = curve[i - 1];
  const b = curve[i] ?? a;
  const t = b.kbps === a.kbps ? 0 : (Math.log(kbps) - Math.log(a.kbps)) / (Math.log(b.kbps) - Math.log(a.kbps));
  const mix = (x: number, y: number) => x + (y - x) * t;
  return { psnr_y: mix(a.psnr_y, b.psnr_y), vmaf: a.vmaf === null || b.vmaf === null ? null : mix(a.vmaf, b.vmaf) };
}

/**
 * Whether a larger conventional candidate beats this one at its highest measured rate on the
 * window, by more than `margin`: its curve there above this one's top point (the CRF cap of
 * crfs.ts). Two resolutions' rate-quality curves cross once (the smaller ahead at low rates, the
 * larger above), so the larger one is ahead at every higher rate too, and this one's lower CRFs
 * need not be encoded. bench/probe.ts checks the ladder against the probe at every CRF.
 */
export function beatenAtTop(own: CurvePoint[], larger: CurvePoint[][], m: LadderMetric, margin: number): boolean {
  const top = own[own.length - 1];
  const q = top && metricOf(top, m);
  if (q === null || q === undefined) return false;
  return larger.some((curve) => {
    const at = qualityAt(curve, top.kbps);
    const v = at && metricOf(at, m);
    return v !== undefined && v !== null && v > q + margin;
  });
}

interface Curves {
  fps: number;
  all: Set<number>;
  probe: ProbeResult;
}

const curvesOver = (c: Curves, windows: Set<number>) => c.probe.candidates.map((e) => ({ candidate: e.candidate, curve: curveOf(e.points, windows, c.fps) }));

/** The neural candidate's advantage over the best conventional one at `kbps` on these windows; undefined where either is out of range. */
function advantage(c: Curves, windows: Set<number>, kbps: number, m: LadderMetric): number | undefined {
  let best = -Infinity;
  let neural: number | undefined;
  for (const { candidate, curve } of curvesOver(c, windows)) {
    const q = qualityAt(curve, kbps);
    const v = q && metricOf(q, m);
    if (v === undefined || v === null) continue;
    if (candidate.kind === 'lr') neural = v;
    else best = Math.max(best, v);
  }
  return neural === undefined || best === -Infinity ? undefined : neural - best;
}

/** The jackknife standard error of the advantage: each window left out in turn (Infinity with one window). */
export function samplingError(c: Curves, kbps: number, m: LadderMetric): number {
  const ids = [...c.all];
  if (ids.length < 2) return Infinity;
  const leaveOut = ids.map((w) => advantage(c, new Set(ids.filter((x) => x !== w)), kbps, m)).filter((a): a is number => a !== undefined);
  if (leaveOut.length < 2) return Infinity;
  const mean = leaveOut.reduce((a, b) => a + b, 0) / leaveOut.length;
  const k = leaveOut.length;
  return Math.sqrt(((k - 1) / k) * leaveOut.reduce((a, b) => a + (b - mean) ** 2, 0));
}

/**
 * How much better the plain pair (the proxy) predicts the neural rung than the encode's HCD makes
 * it, on the proxy window at this rate (clamped into both curves' range); 0 where HCD does at
 * least as well: a proxy that predicts too low only makes the choice cautious.
 */
export function proxyOptimism(c: Curves, kbps: number, m: LadderMetric): number {
  const p = c.probe.proxy;
  if (!p) return 0;
  const plain = c.probe.candidates.find((e) => e.candidate.kind === 'lr')!;
  const w = new Set([p.window]);
  const a = curveOf(plain.points, w, c.fps);
  const b = curveOf(p.points, w, c.fps);
  const lo = Math.max(a[0].kbps, b[0].kbps);
  const hi = Math.min(a[a.length - 1].kbps, b[b.length - 1].kbps);
  if (lo > hi) return 0;
  const at = Math.min(hi, Math.max(lo, kbps));
  const qa = metricOf(qualityAt(a, at)!, m);
  const qb = metricOf(qualityAt(b, at)!, m);
  return qa === null || qb === null ? 0 : Math.max(0, qa - qb);
}

/** The rates every candidate together reaches: from the lowest to the highest measured. */
export function reach(probe: ProbeResult, fps: number): { min: number; max: number } {
  const all = new Set(probe.windows.map((_, i) => i));
  // a candidate the probe stopped measuring (stop.ts) has no curve over every window
  const curves = probe.candidates.map((e) => curveOf(e.points, all, fps)).filter((c) => c.length > 0);
  return { min: Math.min(...curves.map((c) => c[0].kbps)) * 1000, max: Math.max(...curves.map((c) => c[c.length - 1].kbps)) * 1000 };
}

/**
 * Default targets outside what the probe reached move to its edge (a title that never needs
 * 1.6 Mb/s gets its top rung where the source at CRF 18 is); named targets must be reachable.
 */
export function fitTargets(targets: number[], explicit: boolean, r: { min: number; max: number }): number[] {
  const out = targets.filter((t) => t >= r.min && t <= r.max);
  if (explicit && out.length !== targets.length) {
    const bad = targets.find((t) => t < r.min || t > r.max)!;
    throw new HcdError(`target bitrate ${Math.round(bad / 1000)} kb/s is outside what the ladder probe reached (${Math.ceil(r.min / 1000)}-${Math.floor(r.max / 1000)} kb/s) for this title`);
  }
  if (explicit) return out;
  const lo = Math.ceil(r.min / 1000) * 1000;
  const hi = Math.floor(r.max / 1000) * 1000;
  return [...new Set(targets.map((t) => Math.min(hi, Math.max(lo, t))))].sort((a, b) => a - b);
}

const fmt = (v: number, m: LadderMetric) => `${v.toFixed(m === 'vmaf' ? 2 : 3)}${m === 'vmaf' ? ' VMAF' : ' dB'}`;

/**
 * Per target: the best measured candidate, except that a neural rung is chosen only where its
 * advantage over every conventional candidate is larger than the probe's error there: PROBE.z
 * jackknife standard errors (how much the choice depends on which windows were sampled) plus the
 * proxy's optimism (how much better the plain pair looked than the encode's HCD does).
 */
export function chooseRungs(probe: ProbeResult, targets: number[], fps: number, m: LadderMetric): RungChoice[] {
  const all = new Set(probe.windows.map((_, i) => i));
  const c: Curves = { fps, all, probe };
  const curves = curvesOver(c, all);
  return targets.map((target) => {
    const kbps = target / 1000;
    const at = curves.map(({ candidate, curve }) => ({ candidate, q: qualityAt(curve, kbps) })).filter((x): x is { candidate: Candidate; q: Prediction } => x.q !== undefined && metricOf(x.q, m) !== null);
    const conventional = at.filter((x) => x.candidate.kind !== 'lr').sort((a, b) => metricOf(b.q, m)! - metricOf(a.q, m)!);
    const best = conventional[0];
    const n = at.find((x) => x.candidate.kind === 'lr');
    if (!best) {
      if (!n) throw new HcdError(`no candidate reaches ${Math.round(kbps)} kb/s`);
      return { target, candidate: n.candidate, predicted: n.q, bestConventional: { id: 'none', psnr_y: NaN, vmaf: null }, margin: 0, why: 'only the neural rung reaches this rate' };
    }
    const bestConventional = { id: best.candidate.id, ...best.q };
    const choice: RungChoice = { target, candidate: best.candidate, predicted: best.q, bestConventional, margin: 0, why: `${best.candidate.id} has the best ${m} of the conventional candidates` };
    const stop = probe.neuralStop;
    if (stop) return { ...choice, why: `${choice.why}; the neural candidate lost to the best conventional one by more than ${fmt(stop.margin, m)} at every rate of the targets on ${stop.windows.length} of ${stop.of} windows, which leaves it no way to clear the probe's error, and was measured no further` };
    if (!n) return { ...choice, why: `${choice.why}; the neural rung does not reach this rate` };
    const adv = metricOf(n.q, m)! - metricOf(best.q, m)!;
    const samplingSe = samplingError(c, kbps, m);
    const optimism = proxyOptimism(c, kbps, m);
    const error = PROBE.z * samplingSe + optimism;
    choice.neural = { predicted: n.q, advantage: adv, error, samplingSe, proxyOptimism: optimism };
    if (adv > error) return { ...choice, candidate: n.candidate, predicted: n.q, margin: adv, why: `neural beats ${best.candidate.id} by ${fmt(adv, m)}, more than the probe's error ${fmt(error, m)}` };
    return { ...choice, why: adv > 0 ? `neural is ahead by ${fmt(adv, m)}, within the probe's error ${fmt(error, m)}: ${best.candidate.id}` : `${best.candidate.id} beats neural by ${fmt(-adv, m)}` };
  });
}
