import type { VmafReport } from '../media/vmaf.js';
import type { Candidate } from './candidates.js';
import { chooseRungs, curveOf, fitTargets, reach, type CurvePoint, type Prediction, type RungChoice } from './choose.js';
import { PROBE, targetBitrates, type LadderMetric, type LadderOptions } from './options.js';
import type { ProbeResult } from './probe.js';

/** A shipped rung's quality measured on the whole encode, beside what the probe predicted. */
export interface MeasuredRung {
  rendition: string;
  kbps: number;
  psnr_y: number;
  vmaf: number | null;
  /** The probe's prediction at the target rate, which the rung was chosen by (null in a fixed ladder). */
  predicted: Prediction | null;
  /** Measured minus predicted. */
  error: { psnr_y: number; vmaf: number | null } | null;
  /**
   * The probe's curve for the rung's candidate at the rate the rung really has (x264's rate
   * control lands near, not on, its target); null outside the curve. Measured minus this is the
   * probe's error at equal rate.
   */
  predictedAtRate: Prediction | null;
  errorAtRate: { psnr_y: number; vmaf: number | null } | null;
}

/** ladder.json: what the ladder was chosen from, what it chose, and why. */
export interface LadderReport {
  version: 1;
  /** A hash of what the choice depends on: input, model, options (a resume reuses a report with the same key). */
  key: string;
  metric: LadderMetric;
  vmaf: VmafReport;
  targets: { asked_kbps: number[]; named: boolean; used_kbps: number[] };
  probe: {
    windows: { start_s: number; frames: number }[];
    crfs: number[];
    sampled_s: number;
    share: number;
    wall_s: number;
    /** The error rule for neural rungs. */
    rule: string;
    /** The encode's HCD frames on one window: the neural candidate's proxy is measured against it. */
    proxy?: { window: number; plain: CurvePoint[]; hcd: CurvePoint[] };
    /** Where the probe stopped measuring the neural candidate (src/encoder/ladder/stop.ts): the windows it lost on, of how many, by at least what. */
    neural_stop?: { windows: number[]; of: number; margin: number; rule: string };
  };
  /** Each candidate's curve over every window; `windows` names those it pools where it is fewer (a stopped neural candidate). */
  candidates: (Candidate & { curve: CurvePoint[]; windows?: number[] })[];
  rungs: (RungChoice & { rendition: string })[];
  /** Filled in once the encode is done. */
  measured?: MeasuredRung[];
}

const round = (v: number, d = 4): number => Math.round(v * 10 ** d) / 10 ** d;

/** The asked targets, and those the choice uses: fitted to the rates the probe reached. */
function targetsOf(probe: ProbeResult, o: LadderOptions, fps: number): { asked: ReturnType<typeof targetBitrates>; used: number[] } {
  const asked = targetBitrates(o);
  return { asked, used: fitTargets(asked.bitrates, asked.explicit, reach(probe, fps)) };
}

/**
 * Whether these curves, as they stand, would ship a neural rung. Without the HCD proxy window
 * the proxy's optimism counts as 0, and it can only withhold neural rungs: where none is chosen
 * here, none would be with it.
 */
export function neuralChosen(probe: ProbeResult, o: LadderOptions, fps: number): boolean {
  return chooseRungs(probe, targetsOf(probe, o, fps).used, fps, o.metric).some((c) => c.candidate.kind === 'lr');
}

/** The probe's curves and the per-target choice as ladder.json holds them. */
export function ladderReport(probe: ProbeResult, o: LadderOptions, x: { key: string; fps: number; total: number; vmaf: VmafReport; name: (c: RungChoice) => string }): LadderReport {
  const { asked: t, used } = targetsOf(probe, o, x.fps);
  const all = new Set(probe.windows.map((_, i) => i));
  const tidy = (c: CurvePoint[]) => c.map((p) => ({ crf: p.crf, kbps: round(p.kbps, 2), psnr_y: round(p.psnr_y), vmaf: p.vmaf === null ? null : round(p.vmaf) }));
  const plain = probe.candidates.find((e) => e.candidate.kind === 'lr');
  const sampled = probe.windows.reduce((a, w) => a + w.frames, 0) / x.fps;
  return {
    version: 1,
    key: x.key,
    metric: o.metric,
    vmaf: x.vmaf,
    targets: { asked_kbps: t.bitrates.map((b) => b / 1000), named: t.explicit, used_kbps: used.map((b) => b / 1000) },
    probe: {
      windows: probe.windows.map((w) => ({ start_s: round(w.start / x.fps, 3), frames: w.frames })),
      crfs: [...PROBE.crfs],
      sampled_s: round(sampled, 3),
      share: round(sampled / (x.total / x.fps), 4),
      wall_s: round(probe.seconds, 2),
      rule: `a neural rung is chosen where its advantage over the best conventional candidate exceeds ${PROBE.z} jackknife standard errors (windows left out in turn) plus the plain pair's optimism against the encode's HCD on the proxy window (measured only where a neural rung would be chosen without it)`,
      ...(probe.neuralStop ? { neural_stop: { ...probe.neuralStop, rule: `the neural candidate is measured no further once it has lost, at every rate the targets span, by more than the margin, on enough windows that its advantage cannot exceed ${PROBE.z} jackknife standard errors whatever the other windows show` } } : {}),
      ...(probe.proxy && plain ? { proxy: { window: probe.proxy.window, plain: tidy(curveOf(plain.points, new Set([probe.proxy.window]), x.fps)), hcd: tidy(curveOf(probe.proxy.points, new Set([probe.proxy.window]), x.fps)) } } : {}),
    },
    candidates: probe.candidates.map((e) => {
      if (e.candidate.kind !== 'lr' || !probe.neuralStop) return { ...e.candidate, curve: tidy(curveOf(e.points, all, x.fps)) };
      const on = new Set(e.points.map((p) => p.window));
      return { ...e.candidate, curve: tidy(curveOf(e.points, on, x.fps)), windows: [...on].sort((a, b) => a - b) };
    }),
    rungs: chooseRungs(probe, used, x.fps, o.metric).map((c) => ({ ...c, rendition: x.name(c) })),
  };
}
