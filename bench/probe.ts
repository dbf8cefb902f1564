/**
 * The ladder probe's cost and what its CRF spans (crfs.ts) give up: the probe as `hcd encode`
 * runs it (each candidate past the targets only) against the same probe at every CRF on every
 * window, on one title. Prints both wall times and CPU seconds, the points each encoded, and
 * whether the two choose the same rungs with the same predictions.
 *
 *   node --import tsx bench/probe.ts [CLIP]     (default: Big Buck Bunny, 60 s, from ../shared/data)
 *
 * Writes bench/out/probe-<clip>.json; without the data it says so and exits 0.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LADDER_DEFAULTS, targetBitrates } from '../src/encoder/ladder/options.js';
import { runProbe, type ProbeResult } from '../src/encoder/ladder/probe.js';
import { chooseRungs, fitTargets, reach } from '../src/encoder/ladder/choose.js';
import { fitToScale, probeSource } from '../src/encoder/media/probe.js';
import { defaultModelId, loadPair } from '../src/encoder/pairs/load.js';
import { DEFAULTS } from '../src/config.js';

const here = dirname(fileURLToPath(import.meta.url));
const clip = resolve(process.argv[2] ?? join(here, '..', '..', 'shared', 'data', 'video', 'big_buck_bunny_640x360.mp4'));
if (!existsSync(clip)) {
  console.log(`no ${clip}: the probe benchmark needs ../shared/data`);
  process.exit(0);
}

const src = await probeSource(clip);
const geo = fitToScale(src.width, src.height, 2);
const pair = await loadPair(defaultModelId());
const fps = src.fpsNum / src.fpsDen;
const { bitrates } = targetBitrates(LADDER_DEFAULTS);
const range = { min: bitrates[0], max: bitrates[bitrates.length - 1] };

async function probe(spanned: boolean): Promise<{ result: ProbeResult; wall: number; cpu: number }> {
  const work = mkdtempSync(join(tmpdir(), 'hcd-probe-bench-'));
  const cpu0 = process.cpuUsage();
  try {
    const result = await runProbe(
      { input: clip, fpsNum: src.fpsNum, fpsDen: src.fpsDen, total: Math.floor(src.duration * fps), hr: { width: geo.width, height: geo.height }, decode: { rate: `${src.fpsNum}/${src.fpsDen}`, matrix: src.matrix, range: src.range, filter: geo.crop } },
      { pair, hcdIters: DEFAULTS.encode.hcdIters, neural: true, preset: DEFAULTS.encode.preset, gop: Math.round(2 * fps), work, ...(spanned ? { range } : {}), needsProxy: () => false },
    );
    const c = process.cpuUsage(cpu0);
    return { result, wall: result.seconds, cpu: (c.user + c.system) / 1e6 };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const choose = (r: ProbeResult) => chooseRungs(r, fitTargets(bitrates, false, reach(r, fps)), fps, 'psnr_y');
const points = (r: ProbeResult) => r.candidates.reduce((a, e) => a + e.points.length, 0);
const spanned = await probe(true);
const every = await probe(false);
const a = choose(spanned.result);
const b = choose(every.result);
const same = a.length === b.length && a.every((x, i) => x.candidate.id === b[i].candidate.id && x.target === b[i].target);
const maxDiff = Math.max(...a.map((x, i) => Math.abs(x.predicted.psnr_y - b[i].predicted.psnr_y)));
const out = {
  clip: basename(clip, extname(clip)),
  targets_kbps: bitrates.map((t) => t / 1000),
  spanned: { wall_s: spanned.wall, node_cpu_s: spanned.cpu, points: points(spanned.result) },
  every_crf: { wall_s: every.wall, node_cpu_s: every.cpu, points: points(every.result) },
  wall_ratio: spanned.wall / every.wall,
  same_rungs: same,
  max_prediction_diff_db: maxDiff,
  rungs: a.map((x) => `${x.candidate.id}@${x.target / 1000}k`),
};
console.log(JSON.stringify(out, null, 2));
mkdirSync(join(here, 'out'), { recursive: true });
writeFileSync(join(here, 'out', `probe-${out.clip}.json`), `${JSON.stringify(out, null, 2)}\n`);
console.log(`probe_wall_spanned_over_every_crf=${out.wall_ratio.toFixed(2)}`);
console.log(`probe_same_rungs=${out.same_rungs} probe_max_prediction_diff_db=${out.max_prediction_diff_db.toFixed(4)}`);
