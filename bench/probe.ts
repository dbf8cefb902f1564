/**
 * The ladder probe's cost and what its savings give up, on one title: the probe as `hcd encode`
 * runs it (each candidate past the targets only, the neural candidate stopped once it cannot be
 * chosen: stop.ts), the same without the stop, and the probe at every CRF on every window. Prints
 * wall times and CPU seconds (children's included), the points each encoded, and whether each
 * chooses the rungs the probe at every CRF chooses, with the same predictions.
 *
 *   node --import tsx bench/probe.ts [CLIP]     (default: Big Buck Bunny, 60 s, from ../shared/data)
 *
 * Writes bench/out/probe-<clip>.json; without the data it says so and exits 0.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

type Variant = 'as-encode' | 'no-stop' | 'every-crf';

/** CPU seconds of this process and of the children it waited for (ffmpeg, the pair's D). */
function cpuSeconds(): number {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  // fields 14-17 of the whole line (utime, stime, cutime, cstime), in clock ticks of 1/100 s
  return f.slice(11, 15).reduce((a, x) => a + Number(x), 0) / 100;
}

async function probe(v: Variant): Promise<{ result: ProbeResult; wall: number; cpu: number }> {
  const work = mkdtempSync(join(tmpdir(), 'hcd-probe-bench-'));
  const cpu0 = cpuSeconds();
  try {
    const result = await runProbe(
      { input: clip, fpsNum: src.fpsNum, fpsDen: src.fpsDen, total: Math.floor(src.duration * fps), hr: { width: geo.width, height: geo.height }, decode: { rate: `${src.fpsNum}/${src.fpsDen}`, matrix: src.matrix, range: src.range, filter: geo.crop } },
      { pair, hcdIters: DEFAULTS.encode.hcdIters, neural: true, preset: DEFAULTS.encode.preset, gop: Math.round(2 * fps), work, ...(v === 'every-crf' ? {} : { range }), stopNeural: v === 'as-encode', needsProxy: () => false },
    );
    return { result, wall: result.seconds, cpu: cpuSeconds() - cpu0 };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const choose = (r: ProbeResult) => chooseRungs(r, fitTargets(bitrates, false, reach(r, fps)), fps, 'psnr_y');
const points = (r: ProbeResult) => r.candidates.reduce((a, e) => a + e.points.length, 0);
const runs = { 'as-encode': await probe('as-encode'), 'no-stop': await probe('no-stop'), 'every-crf': await probe('every-crf') };
const reference = choose(runs['every-crf'].result);
/** Whether a run chooses the rungs the probe at every CRF on every window chooses, and how far its predictions are from that one's. */
function against(r: ProbeResult) {
  const a = choose(r);
  const same = a.length === reference.length && a.every((x, i) => x.candidate.id === reference[i].candidate.id && x.target === reference[i].target);
  return { same_rungs: same, max_prediction_diff_db: Math.max(...a.map((x, i) => Math.abs(x.predicted.psnr_y - (reference[i]?.predicted.psnr_y ?? NaN)))) };
}
const out = {
  clip: basename(clip, extname(clip)),
  targets_kbps: bitrates.map((t) => t / 1000),
  runs: Object.fromEntries(
    Object.entries(runs).map(([k, r]) => [k, { wall_s: r.wall, cpu_s: r.cpu, points: points(r.result), neural_stop: r.result.neuralStop ?? null, ...against(r.result) }]),
  ),
  rungs: reference.map((x) => `${x.candidate.id}@${x.target / 1000}k`),
};
console.log(JSON.stringify(out, null, 2));
mkdirSync(join(here, 'out'), { recursive: true });
writeFileSync(join(here, 'out', `probe-${out.clip}.json`), `${JSON.stringify(out, null, 2)}\n`);
const r = out.runs;
console.log(`probe_wall_as_encode_over_no_stop=${(r['as-encode'].wall_s / r['no-stop'].wall_s).toFixed(2)} probe_wall_as_encode_over_every_crf=${(r['as-encode'].wall_s / r['every-crf'].wall_s).toFixed(2)}`);
console.log(`probe_same_rungs=${r['as-encode'].same_rungs && r['no-stop'].same_rungs} probe_max_prediction_diff_db=${Math.max(r['as-encode'].max_prediction_diff_db, r['no-stop'].max_prediction_diff_db).toFixed(4)}`);
