/**
 * When the probe stops measuring the neural candidate: once the windows it has lost on leave its
 * rung no way to be chosen, whatever the windows left would show. Its D (a chain of windows, the
 * largest part of the probe) and its points on those windows would then buy nothing.
 *
 * A neural rung is chosen at a target only where its advantage over the best conventional
 * candidate exceeds PROBE.z jackknife standard errors (choose.ts). For an advantage that is a mean
 * over n windows, the jackknife standard error is the windows' standard deviation over sqrt(n),
 * and with j of the n windows at or below zero the advantage over its standard error stays below
 * sqrt((n - j)(n - 1) / j), the limit as the other windows grow apart from zero together (the
 * test checks this bound on random windows). So j windows lost at every rate the targets span,
 * with sqrt((n - j)(n - 1) / j) at most z, mean no target can take the neural rung: one window of
 * two or three, two of four, three of five. The probe's advantage pools the windows' curves rather
 * than averaging per-window advantages, so a window counts as lost only below the best
 * conventional candidate by PROBE.margin, and bench/probe.ts checks the ladder against the same
 * probe without the stop and at every CRF.
 */
import { curveOf, metricOf, qualityAt, type CurvePoint } from './choose.js';
import type { RateRange } from './crfs.js';
import { PROBE, type LadderMetric } from './options.js';
import type { ProbeResult } from './points.js';

/** How many windows of `n` the neural candidate must lose on for its rung to be out of reach at `z`. */
export function lossesToStop(n: number, z: number): number {
  for (let j = 1; j < n; j++) if ((n - j) * (n - 1) <= z * z * j) return j;
  return n;
}

/** Rates at which a window's curves are compared: log-spaced over the targets' span, and every measured rate inside it. */
function ratesOver(range: RateRange, curves: CurvePoint[][]): number[] {
  const lo = range.min / 1000;
  const hi = range.max / 1000;
  const steps = 64;
  const grid = Array.from({ length: steps + 1 }, (_, i) => lo * (hi / lo) ** (i / steps));
  const measured = curves.flatMap((c) => c.map((p) => p.kbps)).filter((k) => k > lo && k < hi);
  return [...grid, ...measured];
}

type Entries = ProbeResult['candidates'];

/**
 * The neural candidate's quality minus the best conventional one's on a window, at each rate
 * the targets span; undefined where either has none. Past its highest rate the neural candidate
 * counts at its quality there.
 */
function gaps(candidates: Entries, window: number, range: RateRange, fps: number, m: LadderMetric): (number | undefined)[] {
  const one = new Set([window]);
  const curves = candidates.map((e) => ({ kind: e.candidate.kind, curve: curveOf(e.points, one, fps) }));
  const neural = curves.find((c) => c.kind === 'lr')?.curve ?? [];
  const conventional = curves.filter((c) => c.kind !== 'lr').map((c) => c.curve);
  const top = neural.at(-1);
  return ratesOver(range, [neural, ...conventional]).map((kbps) => {
    const past = top !== undefined && kbps > top.kbps;
    const n = past ? top : qualityAt(neural, kbps);
    const nv = n && metricOf(n, m);
    const best = Math.max(...conventional.map((c) => qualityAt(c, kbps)).map((q) => (q ? (metricOf(q, m) ?? -Infinity) : -Infinity)));
    return nv !== undefined && nv !== null && best > -Infinity ? nv - best : undefined;
  });
}

/**
 * Whether the neural candidate lost on `window`: below the best conventional candidate by more
 * than `margin` at every rate the targets span. Past its highest rate it counts at its best
 * measured quality: no CRF of the probe gives it more, or where its CRFs were capped
 * (crfs.ts), a larger candidate is ahead of it there by more than the margin, and so above. Where
 * it does not reach down to a rate, or no conventional candidate reaches one, the window does not
 * count as lost.
 */
export function lostOn(candidates: Entries, window: number, range: RateRange, fps: number, m: LadderMetric, margin: number): boolean {
  return gaps(candidates, window, range, fps, m).every((gap) => gap !== undefined && gap < -margin);
}

/**
 * The stop for one probe: windows are reported as they finish and judged in window order, so that
 * the same title stops at the same window whichever finished first; once enough are lost, the
 * neural candidate's remaining work is aborted through `signal`.
 */
export class NeuralStop {
  private readonly controller = new AbortController();
  private readonly verdicts = new Map<number, boolean>();
  private readonly lost: number[] = [];
  private next = 0;
  private cancelled = false;
  readonly needed: number;

  constructor(
    readonly windows: number,
    private readonly o: { range: RateRange; fps: number; metric: LadderMetric },
  ) {
    this.needed = lossesToStop(windows, PROBE.z);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get stopped(): boolean {
    return this.controller.signal.aborted;
  }

  /** Reports a window whose every candidate is measured; true when that stops the neural candidate. */
  finished(candidates: Entries, window: number): boolean {
    if (this.stopped) return false;
    this.verdicts.set(window, lostOn(candidates, window, this.o.range, this.o.fps, this.o.metric, PROBE.margin[this.o.metric]));
    for (; this.verdicts.has(this.next); this.next++) {
      if (this.verdicts.get(this.next)) this.lost.push(this.next);
      if (this.lost.length >= this.needed) {
        this.controller.abort();
        return true;
      }
    }
    return false;
  }

  /** Ends the neural candidate's work without a verdict (the probe failed): its D is killed. */
  cancel(): void {
    this.cancelled = true;
    this.controller.abort();
  }

  /** The window that stopped it, the last one judged: the neural candidate's points count up to it. */
  get last(): number | undefined {
    return this.verdict?.windows.at(-1);
  }

  /** What ladder.json says of it, once stopped. */
  get verdict(): { windows: number[]; of: number; margin: number } | undefined {
    return this.stopped && !this.cancelled ? { windows: [...this.lost], of: this.windows, margin: PROBE.margin[this.o.metric] } : undefined;
  }
}
