import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EncodeConfig } from '../../config.js';
import { HcdError } from '../../shared/errors.js';
import type { RateRange } from '../ladder/crfs.js';
import { targetBitrates, type LadderOptions } from '../ladder/options.js';
import { runProbe } from '../ladder/probe.js';
import { ladderReport, neuralChosen, type LadderReport } from '../ladder/report.js';
import { writeAtomic } from '../media/files.js';
import type { FrameGeometry, SourceInfo } from '../media/probe.js';
import { resolveVmaf } from '../media/vmaf.js';
import type { RescalingPair } from '../pairs/load.js';
import { fixedRungs, renditionName, type RungSpec } from './renditions.js';
import { describeInput } from './state.js';

export const LADDER_FILE = 'ladder.json';

/** Where a ladder comes from: chosen here (or reused by a resume), or only read from OUTDIR (a queued chunk's worker). */
export type LadderFrom = 'choose' | 'outdir';

export interface PlannedLadder {
  rungs: RungSpec[];
  /** The auto ladder's report; `fresh` when this run chose it (then it is written at claim). */
  report?: LadderReport;
  fresh?: boolean;
}

export interface LadderContext {
  src: SourceInfo;
  geo: FrameGeometry;
  pair: RescalingPair;
  /** Frames the encode reads, frames per GOP. */
  expected: number;
  gop: number;
  from: LadderFrom;
  onNote?(line: string): void;
}

/** What the choice depends on: the same key, the same ladder (the probe is deterministic, and costly to repeat). */
function ladderKey(cfg: EncodeConfig, pair: RescalingPair): string {
  const what = { input: describeInput(cfg.input), model: pair.manifest.id, auto: cfg.auto, hcdIters: cfg.hcdIters, preset: cfg.preset, gop: cfg.gop, seconds: cfg.seconds ?? null };
  return createHash('sha256').update(JSON.stringify(what)).digest('hex').slice(0, 16);
}

export function readLadder(outdir: string): LadderReport | undefined {
  try {
    return JSON.parse(readFileSync(join(outdir, LADDER_FILE), 'utf8')) as LadderReport;
  } catch {
    return undefined;
  }
}

export function writeLadder(outdir: string, report: LadderReport): void {
  writeAtomic(join(outdir, LADDER_FILE), `${JSON.stringify(report, null, 2)}\n`);
}

const rungsOf = (r: LadderReport): RungSpec[] =>
  r.rungs.map((c) => ({ kind: c.candidate.kind, bitrate: c.target, ...(c.candidate.kind === 'down' ? { size: { width: c.candidate.width, height: c.candidate.height } } : {}) }));

/**
 * The rungs of an encode: the fixed ladder as configured, or the per-title one. A resume (and a
 * queued chunk) reuses the ladder.json OUTDIR holds for the same key; otherwise the probe runs.
 */
export async function planLadder(cfg: EncodeConfig, x: LadderContext): Promise<PlannedLadder> {
  if (cfg.ladder === 'fixed') return { rungs: fixedRungs(cfg, x.geo) };
  const key = ladderKey(cfg, x.pair);
  const old = readLadder(cfg.outdir);
  if (old?.key === key && (cfg.resume || x.from === 'outdir')) return { rungs: rungsOf(old), report: old };
  if (x.from === 'outdir') throw new HcdError(`${join(cfg.outdir, LADDER_FILE)} is missing or was chosen for another job`);
  const report = await chooseLadder(cfg, x, key);
  return { rungs: rungsOf(report), report, fresh: true };
}

/** The rates the targets span, which the probe must reach past. */
function targetRange(o: LadderOptions): RateRange {
  const { bitrates } = targetBitrates(o);
  return { min: bitrates[0], max: bitrates[bitrates.length - 1] };
}

async function chooseLadder(cfg: EncodeConfig, x: LadderContext, key: string): Promise<LadderReport> {
  const vmaf = await resolveVmaf(cfg.auto.vmafModel);
  if (cfg.auto.metric === 'vmaf' && !vmaf.model) throw new HcdError(`--metric vmaf needs a VMAF model: ${vmaf.report.reason ?? 'none available'}`);
  const fps = x.src.fpsNum / x.src.fpsDen;
  const total = Number.isFinite(x.expected) ? x.expected : Math.floor(x.src.duration * fps);
  if (!(total > 0)) throw new HcdError(`cannot tell how long ${cfg.input} is, which the ladder probe needs: give a fixed ladder with --renditions`);
  const work = await mkdtemp(join(tmpdir(), 'hcd-ladder-'));
  try {
    x.onNote?.(`ladder probe: ${cfg.auto.neural ? 'conventional and neural' : 'conventional'} candidates through x264 on samples of the title`);
    const probe = await runProbe(
      {
        input: cfg.input,
        fpsNum: x.src.fpsNum,
        fpsDen: x.src.fpsDen,
        total,
        hr: { width: x.geo.width, height: x.geo.height },
        decode: { rate: `${x.src.fpsNum}/${x.src.fpsDen}`, matrix: x.src.matrix, range: x.src.range, filter: x.geo.crop },
      },
      {
        pair: x.pair,
        hcdIters: cfg.hcdIters,
        neural: cfg.auto.neural,
        preset: cfg.preset,
        gop: x.gop,
        // the probe measures only the metric it chooses by: VMAF would be two thirds of a probe point's
        // measurement; both metrics are measured on the shipped rungs after the encode
        vmaf: cfg.auto.metric === 'vmaf' ? vmaf.model : undefined,
        ep: cfg.ep,
        work,
        range: targetRange(cfg.auto),
        metric: cfg.auto.metric,
        needsProxy: (r) => neuralChosen(r, cfg.auto, fps),
      },
    );
    const report = ladderReport(probe, cfg.auto, {
      key,
      fps,
      total,
      vmaf: vmaf.report,
      name: (c) => renditionName(c.candidate.kind, c.target, c.candidate),
    });
    x.onNote?.(`ladder probe: ${probe.windows.length} windows (${(report.probe.share * 100).toFixed(1)} % of the title) in ${probe.seconds.toFixed(1)} s; rungs ${report.rungs.map((r) => r.rendition).join(', ')}`);
    return report;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
