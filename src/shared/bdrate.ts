/**
 * Bjøntegaard delta metrics between two rate-distortion curves. No Node imports.
 *
 * - 'cubic': VCEG-M33 (G. Bjøntegaard, "Calculation of average PSNR differences between
 *   RD-curves", 2001): a least-squares cubic of log-rate against PSNR (or the reverse for
 *   BD-PSNR), integrated over the overlapping range.
 * - 'pchip' (default): piecewise cubic Hermite interpolation with Fritsch–Carlson monotone slopes,
 *   as in the JCT-VC/JVET common-test-conditions Excel sheet (JCTVC-L1100, JVET-T2010) and the
 *   `bjontegaard` Python package; the cubic fit misbehaves on some curve shapes, this does not.
 *
 * BD-rate is in percent: negative means the test curve needs less bitrate for the same PSNR.
 * When the curves' ranges do not overlap the delta is undefined and NaN is returned; malformed
 * input (too few points, non-positive bitrate, non-finite values) throws.
 */
import { HcdError } from './errors.js';

export interface RdPoint {
  /** Any rate unit, the same for both curves (kbit/s in our reports). */
  bitrate: number;
  /** Quality in dB (or any quality score where higher is better). */
  psnr: number;
}

export type BdMethod = 'pchip' | 'cubic';

export interface BdOptions {
  method?: BdMethod;
}

function validate(points: RdPoint[], what: string): void {
  if (points.length < 2) throw new HcdError(`BD metric: the ${what} curve needs at least 2 RD points, got ${points.length}`);
  for (const p of points) {
    if (!(p.bitrate > 0) || !Number.isFinite(p.bitrate)) throw new HcdError(`BD metric: ${what} bitrate ${p.bitrate} is not a positive number`);
    if (!Number.isFinite(p.psnr)) throw new HcdError(`BD metric: ${what} quality ${p.psnr} is not finite`);
  }
}

/** x sorted ascending with its y; repeated x values cannot be interpolated through. */
function sortedXY(xs: number[], ys: number[], what: string): [number[], number[]] {
  const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
  const x = order.map((i) => xs[i]);
  const y = order.map((i) => ys[i]);
  for (let i = 1; i < x.length; i++) {
    if (x[i] === x[i - 1]) throw new HcdError(`BD metric: the ${what} curve has two points at the same ${what.includes('rate') ? 'quality' : 'rate'} (${x[i]})`);
  }
  return [x, y];
}

/** One curve as something we can integrate between a and b. */
interface Integrable {
  integrate(a: number, b: number): number;
  /** The interpolated value at x (extrapolated by the end pieces outside the data). */
  at(x: number): number;
}

/** The one-sided three-point end slope, limited so that the end stays shape-preserving (as scipy and the CTC sheet do). */
function pchipEnd(h0: number, h1: number, d0: number, d1: number): number {
  let d = ((2 * h0 + h1) * d0 - h0 * d1) / (h0 + h1);
  if (Math.sign(d) !== Math.sign(d0)) d = 0;
  else if (Math.sign(d0) !== Math.sign(d1) && Math.abs(d) > Math.abs(3 * d0)) d = 3 * d0;
  return d;
}

/** Fritsch–Carlson slopes: weighted harmonic mean of neighbouring secants, zero at local extrema. */
export function pchipSlopes(x: number[], y: number[]): number[] {
  const n = x.length;
  const h = new Array<number>(n - 1);
  const delta = new Array<number>(n - 1);
  for (let i = 0; i < n - 1; i++) {
    h[i] = x[i + 1] - x[i];
    delta[i] = (y[i + 1] - y[i]) / h[i];
  }
  if (n === 2) return [delta[0], delta[0]];
  const d = new Array<number>(n).fill(0);
  for (let k = 1; k < n - 1; k++) {
    const a = delta[k - 1];
    const b = delta[k];
    if (a === 0 || b === 0 || Math.sign(a) !== Math.sign(b)) continue;
    const w1 = 2 * h[k] + h[k - 1];
    const w2 = h[k] + 2 * h[k - 1];
    d[k] = (w1 + w2) / (w1 / a + w2 / b);
  }
  d[0] = pchipEnd(h[0], h[1], delta[0], delta[1]);
  d[n - 1] = pchipEnd(h[n - 2], h[n - 3], delta[n - 2], delta[n - 3]);
  return d;
}

function pchip(x: number[], y: number[]): Integrable {
  const d = pchipSlopes(x, y);
  return {
    at(v: number): number {
      let i = 0;
      while (i < x.length - 2 && v > x[i + 1]) i++;
      const h = x[i + 1] - x[i];
      const delta = (y[i + 1] - y[i]) / h;
      const t = v - x[i];
      return y[i] + d[i] * t + ((3 * delta - 2 * d[i] - d[i + 1]) / h) * t * t + ((d[i] - 2 * delta + d[i + 1]) / (h * h)) * t * t * t;
    },
    integrate(a: number, b: number): number {
      let total = 0;
      for (let i = 0; i < x.length - 1; i++) {
        const lo = Math.max(a, x[i]);
        const hi = Math.min(b, x[i + 1]);
        if (hi <= lo) continue;
        const h = x[i + 1] - x[i];
        const delta = (y[i + 1] - y[i]) / h;
        const c2 = (3 * delta - 2 * d[i] - d[i + 1]) / h;
        const c3 = (d[i] - 2 * delta + d[i + 1]) / (h * h);
        const s0 = lo - x[i];
        const s1 = hi - x[i];
        total += y[i] * (s1 - s0) + (d[i] * (s1 ** 2 - s0 ** 2)) / 2 + (c2 * (s1 ** 3 - s0 ** 3)) / 3 + (c3 * (s1 ** 4 - s0 ** 4)) / 4;
      }
      return total;
    },
  };
}

/** Least-squares polynomial (ascending coefficients) via the normal equations, centred for conditioning. */
export function polyfit(x: number[], y: number[], degree: number): { coef: number[]; shift: number } {
  const shift = x.reduce((s, v) => s + v, 0) / x.length;
  const m = degree + 1;
  const A: number[][] = Array.from({ length: m }, () => new Array<number>(m + 1).fill(0));
  for (let i = 0; i < x.length; i++) {
    const t = x[i] - shift;
    const pw: number[] = [1];
    for (let k = 1; k < 2 * m; k++) pw.push(pw[k - 1] * t);
    for (let r = 0; r < m; r++) {
      for (let c = 0; c < m; c++) A[r][c] += pw[r + c];
      A[r][m] += pw[r] * y[i];
    }
  }
  // Gaussian elimination with partial pivoting
  for (let c = 0; c < m; c++) {
    let p = c;
    for (let r = c + 1; r < m; r++) if (Math.abs(A[r][c]) > Math.abs(A[p][c])) p = r;
    [A[c], A[p]] = [A[p], A[c]];
    if (A[c][c] === 0) throw new HcdError('BD metric: the cubic fit is singular (repeated points?)');
    for (let r = 0; r < m; r++) {
      if (r === c) continue;
      const f = A[r][c] / A[c][c];
      for (let k = c; k <= m; k++) A[r][k] -= f * A[c][k];
    }
  }
  return { coef: A.map((row, i) => row[m] / A[i][i]), shift };
}

function cubicFit(x: number[], y: number[]): Integrable {
  // VCEG-M33 uses 4 points and a cubic; fewer points get the highest degree they determine
  const { coef, shift } = polyfit(x, y, Math.min(3, x.length - 1));
  const prim = (v: number): number => {
    const t = v - shift;
    let s = 0;
    for (let k = coef.length - 1; k >= 0; k--) s = (s + coef[k] / (k + 1)) * t;
    return s;
  };
  const at = (v: number): number => {
    const t = v - shift;
    let s = 0;
    for (let k = coef.length - 1; k >= 0; k--) s = s * t + coef[k];
    return s;
  };
  return { integrate: (a, b) => prim(b) - prim(a), at };
}

function curve(x: number[], y: number[], method: BdMethod): Integrable {
  return method === 'cubic' ? cubicFit(x, y) : pchip(x, y);
}

/** Mean vertical gap (test - anchor) of y(x) over the overlap of the two x ranges; NaN if none. */
function meanGap(ax: number[], ay: number[], tx: number[], ty: number[], method: BdMethod, what: string): number {
  const [sax, say] = sortedXY(ax, ay, `anchor ${what}`);
  const [stx, sty] = sortedXY(tx, ty, `test ${what}`);
  const lo = Math.max(sax[0], stx[0]);
  const hi = Math.min(sax[sax.length - 1], stx[stx.length - 1]);
  if (!(hi > lo)) return NaN;
  const ia = curve(sax, say, method).integrate(lo, hi);
  const it = curve(stx, sty, method).integrate(lo, hi);
  return (it - ia) / (hi - lo);
}

/** Average bitrate difference of `test` against `anchor` at equal quality, in percent. */
export function bdRate(anchor: RdPoint[], test: RdPoint[], opts: BdOptions = {}): number {
  validate(anchor, 'anchor');
  validate(test, 'test');
  const gap = meanGap(
    anchor.map((p) => p.psnr),
    anchor.map((p) => Math.log10(p.bitrate)),
    test.map((p) => p.psnr),
    test.map((p) => Math.log10(p.bitrate)),
    opts.method ?? 'pchip',
    'rate curve',
  );
  return (10 ** gap - 1) * 100;
}

/** Average quality difference (dB) of `test` against `anchor` at equal bitrate. */
export function bdPsnr(anchor: RdPoint[], test: RdPoint[], opts: BdOptions = {}): number {
  validate(anchor, 'anchor');
  validate(test, 'test');
  return meanGap(
    anchor.map((p) => Math.log10(p.bitrate)),
    anchor.map((p) => p.psnr),
    test.map((p) => Math.log10(p.bitrate)),
    test.map((p) => p.psnr),
    opts.method ?? 'pchip',
    'quality curve',
  );
}

interface RateCurve {
  lo: number;
  hi: number;
  /** log10(bitrate) as a function of quality. */
  f: Integrable;
}

function rateCurve(pts: RdPoint[], method: BdMethod, what: string): RateCurve {
  const [x, y] = sortedXY(
    pts.map((p) => p.psnr),
    pts.map((p) => Math.log10(p.bitrate)),
    `${what} rate curve`,
  );
  return { lo: x[0], hi: x[x.length - 1], f: curve(x, y, method) };
}

/** Whether the anchor's measured points reach quality q. */
const covers = (a: RateCurve, q: number): boolean => q >= a.lo - 1e-12 && q <= a.hi + 1e-12;

/** The cheapest anchor's log-rate at quality q, among those whose range covers q. */
function lowest(as: RateCurve[], q: number): number {
  let best = Infinity;
  for (const a of as) if (covers(a, q)) best = Math.min(best, a.f.at(q));
  // in a gap between the anchors' ranges, the nearest anchors' extrapolation
  if (best === Infinity) for (const a of as) best = Math.min(best, a.f.at(q));
  return best;
}

/** Points along the lower envelope of several RD curves (for plotting the "best of" curve). */
export function bestEnvelope(anchors: RdPoint[][], opts: Omit<BestOptions, 'range'> = {}): RdPoint[] {
  const as = anchors.filter((a) => a.length >= 2).map((a, i) => rateCurve(a, opts.method ?? 'pchip', `anchor ${i + 1}`));
  if (as.length === 0) return [];
  const lo = Math.min(...as.map((a) => a.lo));
  const hi = Math.max(...as.map((a) => a.hi));
  const n = opts.samples ?? 48;
  return Array.from({ length: n + 1 }, (_, i) => {
    const q = lo + ((hi - lo) * i) / n;
    return { bitrate: 10 ** lowest(as, q), psnr: q };
  });
}

export interface BestOptions extends BdOptions {
  samples?: number;
  /** Integrate over this quality interval only (intersected with the usual overlap). */
  range?: [number, number];
}

function bestSetup(anchors: RdPoint[][], test: RdPoint[], opts: BestOptions) {
  const method = opts.method ?? 'pchip';
  validate(test, 'test');
  anchors.forEach((a, i) => validate(a, `anchor ${i + 1}`));
  const as = anchors.map((a, i) => rateCurve(a, method, `anchor ${i + 1}`));
  const t = rateCurve(test, method, 'test');
  const lo = Math.max(t.lo, Math.min(...as.map((a) => a.lo)), opts.range?.[0] ?? -Infinity);
  const hi = Math.min(t.hi, Math.max(...as.map((a) => a.hi)), opts.range?.[1] ?? Infinity);
  return hi > lo ? { as, t, lo, hi } : undefined;
}

/**
 * The share (0-1) of bdRateVsBest's quality interval that no anchor's measured range covers, where
 * the envelope is the anchors' extrapolation instead of a measurement. NaN where it is undefined.
 */
export function bestGapShare(anchors: RdPoint[][], test: RdPoint[], opts: BestOptions = {}): number {
  const r = bestSetup(anchors, test, opts);
  if (!r) return NaN;
  const n = opts.samples ?? 4096;
  let gap = 0;
  for (let i = 0; i < n; i++) {
    const q = r.lo + ((r.hi - r.lo) * (i + 0.5)) / n;
    if (!r.as.some((a) => covers(a, q))) gap++;
  }
  return gap / n;
}

/**
 * BD-rate (%) of `test` against the best of several anchor curves at each quality: the lower
 * envelope min_k rate_k(q) of the anchors' interpolated log-rate curves, over the qualities some
 * anchor covers. That is "the cheaper of A and B at every quality", so each anchor itself comes
 * out at >= 0 and a test curve has to beat all of them to come out negative. The envelope has
 * kinks where anchors cross, so the integral is numeric (trapezoid on `samples` points; the
 * smooth single-anchor case agrees with bdRate to ~1e-6 %). NaN where the ranges do not overlap.
 */
export function bdRateVsBest(anchors: RdPoint[][], test: RdPoint[], opts: BestOptions = {}): number {
  const r = bestSetup(anchors, test, opts);
  if (!r) return NaN;
  const { as, t, lo, hi } = r;
  const n = opts.samples ?? 4096;
  let sum = 0;
  for (let i = 0; i <= n; i++) {
    const q = lo + ((hi - lo) * i) / n;
    const w = i === 0 || i === n ? 0.5 : 1;
    sum += w * (t.f.at(q) - lowest(as, q));
  }
  return (10 ** (sum / n) - 1) * 100;
}

/**
 * The upper-left rate-distortion hull of a set of points: those not beaten by a cheaper point of
 * equal or better quality, then only the ones on the upper concave hull of quality against
 * *linear* bitrate. Linear, because switching between two encodes part of the time reaches the
 * straight line between them in bitrate (time sharing); a chord on a log-rate axis is not
 * reachable. Feeding it every pipeline's points gives "the best of all of them at each quality".
 * Sorted by bitrate, ascending.
 */
export function convexHull<T extends RdPoint>(points: T[]): T[] {
  const sorted = points
    .filter((p) => p.bitrate > 0 && Number.isFinite(p.bitrate) && Number.isFinite(p.psnr))
    .sort((a, b) => a.bitrate - b.bitrate || b.psnr - a.psnr);
  // Pareto front: quality must rise with rate
  const front: T[] = [];
  for (const p of sorted) if (front.length === 0 || p.psnr > front[front.length - 1].psnr) front.push(p);
  // Andrew's monotone chain, upper part: drop a middle point that lies on or under the chord
  const hull: T[] = [];
  for (const p of front) {
    while (hull.length >= 2) {
      const a = hull[hull.length - 2];
      const b = hull[hull.length - 1];
      const cross = (b.bitrate - a.bitrate) * (p.psnr - a.psnr) - (b.psnr - a.psnr) * (p.bitrate - a.bitrate);
      if (cross >= 0) hull.pop();
      else break;
    }
    hull.push(p);
  }
  return hull;
}

