/**
 * The per-title ladder's acceptance, per clip, every figure measured after the real codec on the
 * whole title at the display size (PSNR-Y and VMAF):
 * - the auto ladder (`hcd encode`, default settings) against the conventional per-title ladder
 *   (the same probe and choice without the neural candidate, `--no-neural`): per rung, the
 *   conventional ladder's quality at the auto rung's measured rate, and BD-rates over the range
 *   both cover;
 * - the auto ladder against Apple's example ladder (HLS authoring spec, 16:9 H.264 rungs up to
 *   the auto ladder's top rate, none above the source size), encoded by the same encoder as a
 *   fixed ladder (`--conventional-renditions`);
 * - the probe's cost against the encode's.
 *
 *   node --import tsx bench/ladder.ts [CLIP...]      (default: ../shared/data/video, all four)
 *
 * Writes bench/out/ladder-<clip>.json. Needs the VMAF model (HCD_VMAF_MODEL or
 * ../shared/data/vmaf/vmaf_v0.6.1.pkl); without the data it says so and exits 0.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bdRate, type RdPoint } from '../src/shared/bdrate.js';
import { encodeVideo, type EncodeSummary } from '../src/encoder/job/encode.js';
import type { LadderReport, MeasuredRung } from '../src/encoder/ladder/report.js';
import { fitToScale, probeSource } from '../src/encoder/media/probe.js';

const here = dirname(fileURLToPath(import.meta.url));
const DATA = resolve(here, '..', '..', 'shared', 'data');
const CLIPS = ['big_buck_bunny_640x360.mp4', 'sintel_848x480.mp4', 'vid4_calendar_lossless.mp4', 'vid4_walk_lossless.mp4'].map((f) => join(DATA, 'video', f));
const VMAF_FILE = process.env.HCD_VMAF_MODEL ?? join(DATA, 'vmaf', 'vmaf_v0.6.1.pkl');

/** Apple's example ladder for 16:9 H.264 (HLS authoring specification): height, video kb/s. */
const APPLE: [number, number][] = [
  [234, 145],
  [360, 365],
  [432, 730],
  [432, 1100],
  [540, 2000],
  [720, 3000],
];

interface Point {
  kbps: number;
  psnr_y: number;
  vmaf: number | null;
}

const rd = (ps: Point[], m: 'psnr_y' | 'vmaf'): RdPoint[] =>
  [...ps].sort((a, b) => a.kbps - b.kbps).map((p) => ({ bitrate: p.kbps, psnr: (m === 'vmaf' ? p.vmaf : p.psnr_y) ?? NaN }));

/** A ladder's quality at `kbps`, linear in log rate between its rungs; undefined outside them. */
function at(ps: Point[], kbps: number, m: 'psnr_y' | 'vmaf'): number | undefined {
  const s = rd(ps, m);
  if (kbps < s[0].bitrate || kbps > s[s.length - 1].bitrate) return undefined;
  const i = Math.max(1, s.findIndex((p) => p.bitrate >= kbps));
  const a = s[i - 1];
  const b = s[i] ?? a;
  const t = b.bitrate === a.bitrate ? 0 : Math.log(kbps / a.bitrate) / Math.log(b.bitrate / a.bitrate);
  return a.psnr + (b.psnr - a.psnr) * t;
}

const tryBd = (anchor: Point[], test: Point[], m: 'psnr_y' | 'vmaf'): number | null => {
  try {
    return bdRate(rd(anchor, m), rd(test, m));
  } catch {
    return null;
  }
};

async function encodeLadder(input: string, out: string, neural: boolean): Promise<{ summary: EncodeSummary; report: LadderReport }> {
  process.stderr.write(`${basename(input)}: ${neural ? 'auto' : 'conventional per-title'} ladder\n`);
  const summary = await encodeVideo({ input, outdir: out, force: true, auto: { neural, vmafModel: VMAF_FILE } }, { onNote: (l) => process.stderr.write(`${l}\n`) });
  return { summary, report: JSON.parse(readFileSync(join(out, 'ladder.json'), 'utf8')) as LadderReport };
}

/** Apple's rungs for this source (none above its size), encoded by the encoder as a fixed ladder and measured as shown. */
async function appleLadder(input: string, out: string, top: number): Promise<(Point & { rung: string })[]> {
  const src = await probeSource(input);
  const geo = fitToScale(src.width, src.height, 2);
  const even = (v: number) => 2 * Math.round(v / 2);
  const rungs = APPLE.filter(([, k]) => k <= top * 1.05).map(([h, kbps]) => {
    const height = Math.min(h, geo.height);
    return { width: Math.min(geo.width, even((height * geo.width) / geo.height)), height, bitrate: kbps * 1000 };
  });
  const s = await encodeVideo({ input, outdir: out, force: true, renditions: [], sourceRenditions: [], conventionalRenditions: rungs, measure: true, auto: { vmafModel: VMAF_FILE } });
  return s.quality!.map(pt);
}

const pt = (m: MeasuredRung): Point & { rung: string } => ({ rung: m.rendition, kbps: m.kbps, psnr_y: m.psnr_y, vmaf: m.vmaf });

async function runClip(input: string): Promise<void> {
  const name = basename(input, extname(input));
  const work = mkdtempSync(join(tmpdir(), `hcd-ladder-bench-${name}-`));
  try {
    const auto = await encodeLadder(input, join(work, 'auto'), true);
    const conv = await encodeLadder(input, join(work, 'conventional'), false);
    const a = auto.report.measured!.map(pt);
    const c = conv.report.measured!.map(pt);
    const top = Math.max(...auto.report.rungs.map((r) => r.target / 1000));
    const apple = await appleLadder(input, join(work, 'apple'), top);
    const perRung = a.map((r) => {
      const dPsnr = at(c, r.kbps, 'psnr_y');
      const dVmaf = at(c, r.kbps, 'vmaf');
      return { rung: r.rung, kbps: r.kbps, psnr_y: r.psnr_y, vmaf: r.vmaf, vs_conventional_db: dPsnr === undefined ? null : r.psnr_y - dPsnr, vs_conventional_vmaf: dVmaf === undefined || r.vmaf === null ? null : r.vmaf - dVmaf };
    });
    const probeS = auto.report.probe.wall_s;
    const result = {
      clip: name,
      frames: auto.summary.frames,
      auto: { rungs: a, chosen: auto.report.rungs.map((r) => ({ rendition: r.rendition, why: r.why })) },
      conventional: { rungs: c },
      apple: { rungs: apple },
      per_rung_vs_conventional: perRung,
      never_worse: perRung.every((r) => (r.vs_conventional_db ?? 0) >= -0.1 && (r.vs_conventional_vmaf ?? 0) >= -0.5),
      bd_rate_vs_conventional: { psnr_y: tryBd(c, a, 'psnr_y'), vmaf: tryBd(c, a, 'vmaf') },
      bd_rate_vs_apple: { psnr_y: tryBd(apple, a, 'psnr_y'), vmaf: tryBd(apple, a, 'vmaf') },
      probe: { wall_s: probeS, encode_s: auto.summary.stages.total_s - probeS, share_of_encode: probeS / (auto.summary.stages.total_s - probeS), windows: auto.report.probe.windows.length, sampled_share: auto.report.probe.share },
      prediction_error_at_rate_db: auto.report.measured!.map((m) => m.errorAtRate?.psnr_y ?? null),
    };
    mkdirSync(join(here, 'out'), { recursive: true });
    writeFileSync(join(here, 'out', `ladder-${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
    const f = (v: number | null, d = 1) => (v === null ? '-' : v.toFixed(d));
    process.stdout.write(`\n${name}: ${result.frames} frames\n`);
    for (const r of perRung) process.stdout.write(`  ${r.rung.padEnd(22)} ${r.kbps.toFixed(0).padStart(5)} kb/s  ${r.psnr_y.toFixed(2)} dB  VMAF ${f(r.vmaf, 2)}  vs conventional ${f(r.vs_conventional_db, 2)} dB / ${f(r.vs_conventional_vmaf, 2)} VMAF\n`);
    process.stdout.write(`  conventional: ${c.map((r) => `${r.rung} ${r.kbps.toFixed(0)}k ${r.psnr_y.toFixed(2)}`).join(', ')}\n`);
    process.stdout.write(`  apple: ${apple.map((r) => `${r.rung} ${r.kbps.toFixed(0)}k ${r.psnr_y.toFixed(2)} dB ${f(r.vmaf, 1)}`).join(', ')}\n`);
    process.stdout.write(`ladder.${name}.never_worse=${result.never_worse}\n`);
    process.stdout.write(`ladder.${name}.bd_vs_conventional_psnr=${f(result.bd_rate_vs_conventional.psnr_y)}% vmaf=${f(result.bd_rate_vs_conventional.vmaf)}%\n`);
    process.stdout.write(`ladder.${name}.bd_vs_apple_psnr=${f(result.bd_rate_vs_apple.psnr_y)}% vmaf=${f(result.bd_rate_vs_apple.vmaf)}%\n`);
    process.stdout.write(`ladder.${name}.probe_share=${(result.probe.share_of_encode * 100).toFixed(1)}% (probe ${probeS.toFixed(0)} s, encode ${result.probe.encode_s.toFixed(0)} s)\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const clips = process.argv.slice(2).length ? process.argv.slice(2) : CLIPS;
  const missing = [...clips, VMAF_FILE].filter((f) => !existsSync(f));
  if (missing.length) {
    process.stdout.write(`ladder: skipped, missing ${missing.join(', ')}\n`);
    return;
  }
  for (const c of clips) await runClip(resolve(c));
}

await main();
