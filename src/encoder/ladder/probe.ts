/**
 * The ladder probe: samples the title (windows.ts) and encodes every candidate on every window
 * at the CRFs the targets need (crfs.ts), each point measured as the viewer sees it (points.ts).
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { hcdActive } from '../hcd/options.js';
import { allSettled } from '../media/files.js';
import { PairNetwork } from '../pairs/network.js';
import { candidatesFor, type Candidate } from './candidates.js';
import { beatenAtTop, curveOf } from './choose.js';
import { ALL_CRFS, crfsOf, FIRST_SPAN, widen, type CrfSpan } from './crfs.js';
import { downInProcess } from './down-process.js';
import { Lanes as PointLanes } from './lanes.js';
import { PROBE } from './options.js';
import { closeWindow, hcdFrames, interrupted, openWindow, point, type FramesFile, type OpenWindow, type ProbePoint, type ProbeResult, type ProbeSettings, type ProbeSource } from './points.js';
import { NeuralStop } from './stop.js';
import { planWindows, type WindowPlan } from './windows.js';

export type { ProbePoint, ProbeResult, ProbeSettings, ProbeSource } from './points.js';

/**
 * How the probe shares the cores. x264 runs one thread per encode (as in the encode), so the
 * probe runs one point per core, up to 4, neural points placed so that the main thread (U) and
 * the other cores stay busy together (lanes.ts). The pair's D runs beside them in a process of
 * its own (down-process.ts) with the cores they leave, at least one: on 2 cores the probe took as
 * long with D on one thread as on two (54-56 s on Big Buck Bunny), for less CPU.
 */
interface Lanes {
  points: PointLanes;
  downThreads: number;
  upThreads: number;
}

function lanesFor(o: ProbeSettings): Lanes {
  const cores = Math.max(1, o.threads ?? availableParallelism());
  const n = Math.min(4, cores);
  return { points: new PointLanes(n), downThreads: Math.max(1, cores - n), upThreads: Math.max(1, Math.floor(cores / n)) };
}

type Entry = ProbeResult['candidates'][number];

/** A candidate's point to encode and measure. */
interface Wanted {
  entry: Entry;
  crf: number;
}

const wantedOf = (e: Entry, crfs: number[]): Wanted[] => crfs.map((crf) => ({ entry: e, crf }));

/** What every window of one probe shares: the cores, the progress count, the neural stop. */
interface Run {
  lanes: Lanes;
  step: () => void;
  stop?: NeuralStop;
  /** Candidates largest first (the neural one after the conventional one of its size): the order of a window's points in the lanes. */
  order: Entry[];
}

const isNeural = (e: Entry): boolean => e.candidate.kind === 'lr';
const pixels = (e: Entry): number => e.candidate.width * e.candidate.height;

/** Largest first, the neural candidate after any conventional one of its size. */
const bySize = (entries: Entry[]): Entry[] => [...entries].sort((a, b) => pixels(b) - pixels(a) || Number(isNeural(a)) - Number(isNeural(b)));

/** The conventional candidates larger than `e`, which cap its CRFs (crfs.ts). */
const largerThan = (run: Run, e: Entry): Entry[] => run.order.filter((o) => !isNeural(o) && pixels(o) > pixels(e));

/** Whether the neural stop has ended this candidate's measurement. */
const stopped = (run: Run, e: Entry): boolean => isNeural(e) && (run.stop?.stopped ?? false);

/** The pair's plain LR frames of the window, made in a process of its own (killed by the neural stop). */
async function plainLr(at: OpenWindow, run: Run, file = join(at.dir, 'lr.rgb')): Promise<FramesFile> {
  await downInProcess(at.o.pair, { ep: at.o.ep, threads: run.lanes.downThreads, signal: run.stop?.signal }, at.s.hr, at.hr.file, file);
  return { file, count: at.hr.count };
}

/**
 * Encodes and measures `wanted` on one window, each point on a lane; the neural points queue
 * once the window's D is done. Every point settles before this returns, so none writes into a
 * folder its caller is about to remove.
 */
async function measureOn(at: OpenWindow, wanted: Wanted[], run: Run): Promise<void> {
  if (wanted.some((x) => isNeural(x.entry))) at.lr ??= plainLr(at, run);
  const runs = wanted.map(async ({ entry, crf }) => {
    const neural = isNeural(entry);
    // the neural stop kills D: its points are then dropped, not failed
    const src = neural ? await at.lr!.catch((e: unknown) => (stopped(run, entry) ? undefined : Promise.reject(e))) : at.hr;
    if (!src) return undefined;
    // a window's points before a later window's (stop.ts judges windows in order), and within a
    // window the larger candidates' first (the smaller ones' CRFs are capped by them, crfs.ts)
    const rank = at.window + run.order.indexOf(entry) / (run.order.length + 1);
    return run.lanes.points.run(neural ? 'main-thread' : 'processes', async () => {
      if (at.o.signal?.aborted) throw interrupted();
      if (stopped(run, entry)) return undefined;
      const p = await point(at, entry.candidate, src, crf);
      run.step();
      return p;
    }, rank);
  });
  (await allSettled(runs)).forEach((p, i) => p && wanted[i].entry.points.push(p));
}

/** A candidate's rates on one window, bits/s by CRF. */
function ratesOn(e: Entry, window: number, fps: number): Map<number, number> {
  return new Map(e.points.filter((p) => p.window === window).map((p) => [p.crf, p.bits / (p.frames / fps)]));
}

/** The CRFs of a candidate's span not yet measured on a window. */
function missingOn(e: Entry, window: number, span: CrfSpan): Wanted[] {
  return wantedOf(e, crfsOf(span).filter((crf) => !e.points.some((p) => p.window === window && p.crf === crf)));
}

/** Whether a larger conventional candidate is ahead of `e` at its highest rate on this window (crfs.ts). */
function cappedOn(at: OpenWindow, e: Entry, run: Run): boolean {
  const one = new Set([at.window]);
  const fps = at.s.fpsNum / at.s.fpsDen;
  const m = at.o.metric ?? 'psnr_y';
  const larger = largerThan(run, e).map((o) => curveOf(o.points, one, fps));
  return beatenAtTop(curveOf(e.points, one, fps), larger, m, PROBE.margin[m]);
}

/**
 * Measures one candidate on the window at its span and, with target rates, widens the span until
 * this window's rates reach past them (crfs.ts), measuring what that takes while the window's
 * files are at hand. Its span grows toward higher rates only once the larger candidates are done
 * on the window (`larger`), and not past a rate where one of them is ahead of it.
 */
async function sampleCandidate(at: OpenWindow, e: Entry, spans: Map<Entry, CrfSpan>, run: Run, larger: Promise<unknown>): Promise<void> {
  let largerDone = false;
  for (;;) {
    if (stopped(run, e)) return;
    // measured first: widen() reads every CRF of the span on this window, and where a later
    // window widened the span (the last pass of runProbe), this one has not measured them all
    const wanted = missingOn(e, at.window, spans.get(e)!);
    if (wanted.length > 0) {
      await measureOn(at, wanted, run);
      continue;
    }
    if (!at.o.range) return;
    const top = !largerDone ? 'held' : cappedOn(at, e, run) ? 'capped' : 'open';
    const r = widen(spans.get(e)!, ratesOn(e, at.window, at.s.fpsNum / at.s.fpsDen), at.o.range, top);
    spans.set(e, r.span);
    if (r.missing.length > 0) continue;
    if (!r.held) return;
    await larger;
    largerDone = true;
  }
}

/** Every candidate on one window, each widening its own span as it goes. */
async function sampleWindow(at: OpenWindow, spans: Map<Entry, CrfSpan>, run: Run): Promise<void> {
  const done = new Map<Entry, Promise<void>>();
  for (const e of run.order) {
    const larger = Promise.all(largerThan(run, e).map((o) => done.get(o)));
    larger.catch(() => undefined); // awaited where it is needed; the failure is reported by its own candidate
    done.set(e, sampleCandidate(at, e, spans, run, larger));
  }
  await allSettled([...done.values()]);
}

/** The encode's own HCD LR frames on one window, at the neural candidate's CRFs. */
async function measureProxy(at: OpenWindow, neural: Candidate, crfs: number[], step: () => void): Promise<ProbePoint[]> {
  const hcd = await hcdFrames(at, at.o.pair, { ep: at.o.ep, threads: at.o.threads, hcdIters: at.o.hcdIters });
  const points: ProbePoint[] = [];
  for (const crf of crfs) {
    if (at.o.signal?.aborted) throw interrupted();
    points.push(await point(at, { ...neural, id: `${neural.id}-hcd` }, hcd, crf));
    step();
  }
  return points;
}

/** Probe steps done and (as far as the spans tell yet; they only grow) to do, for `onStep`. */
function progressOf(o: ProbeSettings, windows: number, spans: Map<Entry, CrfSpan>, withProxy: boolean, stop?: NeuralStop) {
  let done = 0;
  const total = () => {
    const sizes = [...spans].map(([e, sp]) => ({ lr: isNeural(e), n: sp.to - sp.from + 1 })).filter((x) => !(x.lr && stop?.stopped));
    const proxy = withProxy ? (sizes.find((x) => x.lr)?.n ?? 0) : 0;
    return Math.max(done, windows * sizes.reduce((a, x) => a + x.n, 0) + proxy);
  };
  return {
    step: () => o.onStep?.(++done, total()),
    finish: () => o.onStep?.((done = total()), done),
  };
}

/**
 * The probe's windows, all opened at once. The pair's D makes their LR frames one window after
 * another in window order (one process at a time, the order the neural stop judges windows in),
 * from the start, so that each window's neural points can go as soon as possible (a D the neural
 * stop makes useless is killed, and the next does not start). The LR frames D made are kept (up
 * to PROBE.keptLrBytes) for a window opened again, when a later window widened a span, so that D
 * does not run twice on it.
 */
function windowSource(s: ProbeSource, o: ProbeSettings, up: PairNetwork | undefined, plans: WindowPlan[], run: Run) {
  const opened = new Map<number, Promise<OpenWindow>>();
  const kept = new Map<number, Promise<FramesFile>>();
  let keptBytes = 0;
  // window w's D starts once window w - 1's is over (or its window failed to open)
  const downDone = plans.map(() => {
    let resolve = (): void => undefined;
    return { promise: new Promise<void>((r) => (resolve = r)), resolve: () => resolve() };
  });
  const lrOf = (at: OpenWindow): Promise<FramesFile> => {
    const scale = o.pair.manifest.scale;
    const bytes = at.hr.count * (s.hr.width / scale) * (s.hr.height / scale) * 3;
    const keep = keptBytes + bytes <= PROBE.keptLrBytes;
    const lr = (downDone[at.window - 1]?.promise ?? Promise.resolve()).then(() => {
      if (run.stop?.stopped) throw new Error('the neural candidate is stopped');
      return plainLr(at, run, keep ? join(o.work, `lr-${at.window}.rgb`) : join(at.dir, 'lr.rgb'));
    });
    void lr.catch(() => undefined).then(() => downDone[at.window].resolve());
    if (keep) {
      keptBytes += bytes;
      kept.set(at.window, lr);
    }
    return lr;
  };
  const openAt = (w: number): Promise<OpenWindow> => {
    const known = opened.get(w);
    if (known) return known;
    const p = openWindow(s, o, up, w, plans[w]).then((at) => {
      if (o.neural) at.lr = lrOf(at);
      return at;
    });
    // awaited where it is used; a failed one is reported there, and lets the next window's D go
    p.catch(() => downDone[w].resolve());
    opened.set(w, p);
    return p;
  };
  return {
    take: (w: number): Promise<OpenWindow> => openAt(w),
    /** Window `w` opened again, with the LR frames kept from its first opening. */
    again: async (w: number): Promise<OpenWindow> => {
      const at = await openWindow(s, o, up, w, plans[w]);
      at.lr = kept.get(w);
      return at;
    },
    /** Settles what was started ahead, before the caller removes the probe's folder. */
    settle: async () => {
      await Promise.allSettled([...opened.values()].map(async (p) => (await p).lr));
    },
  };
}

/**
 * Samples the title and encodes every candidate on every window at the CRFs the targets need.
 * The neural candidate is the pair without HCD, as HCD on every window would cost what the encode
 * costs; on the middle window the encode's own HCD frames are measured too, so the proxy's error
 * is known (choose.ts), unless `needsProxy` says it cannot matter.
 */
export async function runProbe(s: ProbeSource, o: ProbeSettings): Promise<ProbeResult> {
  const t0 = performance.now();
  const fps = s.fpsNum / s.fpsDen;
  const plans = planWindows(s.total, fps);
  const cands = candidatesFor(s.hr, o.pair.manifest.scale, o.neural);
  const withProxy = o.neural && hcdActive(o.hcdIters);
  const result: ProbeResult = { windows: [], candidates: cands.map((candidate) => ({ candidate, points: [] })), seconds: 0 };
  const spans = new Map<Entry, CrfSpan>(result.candidates.map((e) => [e, o.range ? FIRST_SPAN : ALL_CRFS]));
  const stop = o.neural && o.range && o.stopNeural !== false ? new NeuralStop(plans.length, { range: o.range, fps, metric: o.metric ?? 'psnr_y' }) : undefined;
  const lanes = lanesFor(o);
  const progress = progressOf(o, plans.length, spans, withProxy, stop);
  const run: Run = { lanes, step: progress.step, stop, order: bySize(result.candidates) };
  const up = o.neural ? await PairNetwork.up(o.pair, '420', { ep: o.ep, threads: lanes.upThreads }) : undefined;
  const windows = windowSource(s, o, up, plans, run);
  const again = async <R>(w: number, fn: (at: OpenWindow) => Promise<R>): Promise<R> => {
    const at = await windows.again(w);
    try {
      return await fn(at);
    } finally {
      await closeWindow(at);
    }
  };
  try {
    // every window at once: D makes their LR frames one after another from the start, and the
    // lanes take conventional points of any window while a window's neural points wait for D
    await allSettled(
      [...plans.keys()].map(async (w) => {
        let at: OpenWindow | undefined;
        try {
          at = await windows.take(w);
          result.windows[w] = { start: at.start, frames: at.hr.count };
          await sampleWindow(at, spans, run);
          stop?.finished(result.candidates, w);
        } catch (e) {
          // the probe fails: D need not go on
          stop?.cancel();
          throw e;
        } finally {
          await at?.lr?.catch(() => undefined);
          if (at) await closeWindow(at);
        }
      }),
    );
    const missing = (w: number) => [...spans].some(([e, span]) => !stopped(run, e) && missingOn(e, w, span).length > 0);
    for (const w of plans.keys()) if (missing(w)) await again(w, (at) => sampleWindow(at, spans, run));
    const neural = result.candidates.find(isNeural);
    if (neural && stop?.verdict) {
      // points a later window measured before the stop came would make the ladder.json depend on timing
      neural.points = neural.points.filter((p) => p.window <= stop.last!);
      result.neuralStop = stop.verdict;
    }
    if (withProxy && neural && !stop?.stopped && (o.needsProxy?.(result) ?? true)) {
      const window = Math.floor(plans.length / 2);
      result.proxy = { window, points: await again(window, (at) => measureProxy(at, neural.candidate, crfsOf(spans.get(neural)!), run.step)) };
    }
    // windows measured at once finish in any order: the curves pool points in one order, so that
    // the same title gives the same ladder.json to the last digit
    for (const e of result.candidates) e.points.sort((a, b) => a.window - b.window || a.crf - b.crf);
    progress.finish();
  } finally {
    await windows.settle();
    await up?.close();
  }
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}
