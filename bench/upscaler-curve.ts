/**
 * The upscaler curve: recurrent or not x about 7K, 20K and 60K parameters, against the frozen
 * hcd-x2 D, measured after the real codec on video the training never saw.
 *
 * - Training: `hcd train-data` sequences (camera moves over ../shared/data/train stills, D's LR
 *   frames through x264 with the encoder's settings at CRF 30-42, decoded). Every variant starts
 *   from the shipped U (grown to its size so it computes the same function, src/train/widen.ts;
 *   made recurrent with zero weights on the previous output) and gets the same recipe and steps.
 * - Measurement: `hcd compare`'s runner on BBB forest (30-33 s) and Vid4 calendar, neither used in
 *   training or tuning: pipeline C (the pair's D, x264, U) with each trained U on the same LR
 *   stream, beside the shipped U and the conventional hull (A, B34, B, B4), in PSNR-Y and VMAF. A
 *   recurrent U starts from zeros at every segment start, as the player resets it.
 *
 *   node --import tsx bench/upscaler-curve.ts [STEPS]     (default 3000; needs ../shared/data)
 *   node --import tsx bench/upscaler-curve.ts --plot-only (the picture again, from bench/out/upscaler-curve.json)
 *
 * Trained weights are cached in .cache/bench-curve; the training sequences in .cache/seq-train.
 * Writes bench/out/upscaler-curve.json and docs/img/upscaler-curve.svg.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { DEFAULTS } from '../src/config.js';
import { learnedPipeline } from '../src/compare/learned.js';
import { resolvePipelines } from '../src/compare/pipelines.js';
import { runCompare, type CompareReport } from '../src/compare/run.js';
import type { FramePipeline, RdRow } from '../src/compare/types.js';
import { resolveVmaf } from '../src/encoder/media/vmaf.js';
import { loadPair } from '../src/encoder/pairs/load.js';
import { modelStats } from '../src/encoder/pairs/stats.js';
import { bdPsnr } from '../src/shared/bdrate.js';
import { Rng } from '../src/shared/rng.js';
import { loadImages } from '../src/train/data.js';
import { streamUpscalerModel } from '../src/train/export.js';
import { loadInitSource } from '../src/train/init.js';
import { MOVE_LIMITS } from '../src/train/moves.js';
import { defaultArch, recurrentUp, type PairArch } from '../src/train/nets.js';
import { paramCount, type Params } from '../src/train/params.js';
import { buildSequences } from '../src/train/sequences.js';
import { loadCheckpoint, saveCheckpoint } from '../src/train/checkpoint.js';
import { newSlot } from '../src/train/adam.js';
import { trainUpOnSequences, VIDEO_TRAIN_DEFAULTS } from '../src/train/video.js';
import { SequenceUpscaler } from '../src/train/video-run.js';
import { widenUp } from '../src/train/widen.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const shared = resolve(root, '..', 'shared', 'data');
if (!existsSync(join(shared, 'train')) || !existsSync(join(shared, 'video'))) {
  console.log(`no ${shared}: the upscaler curve needs ../shared/data`);
  process.exit(0);
}
/** The row of the U as shipped, the reference of every gain. */
const SHIPPED = 'C (shipped U)';
if (process.argv[2] === '--plot-only') {
  await plot((JSON.parse(readFileSync(join(here, 'out', 'upscaler-curve.json'), 'utf8')) as { rows: Row[] }).rows);
  process.exit(0);
}
const STEPS = Number(process.argv[2] ?? VIDEO_TRAIN_DEFAULTS.steps);
const SEQUENCES = 192;
const cache = join(root, '.cache', 'bench-curve');
mkdirSync(cache, { recursive: true });

const base = defaultArch(2);
const SIZES: { name: string; channels: number; hidden: number }[] = [
  { name: '7K', channels: base.upChannels, hidden: base.upHidden },
  { name: '20K', channels: 24, hidden: 3 },
  { name: '60K', channels: 36, hidden: 4 },
];
interface Variant {
  id: string;
  arch: PairArch;
  recurrent: boolean;
}
const VARIANTS: Variant[] = SIZES.flatMap((s) => [false, true].map((recurrent) => ({ id: `U${s.name}${recurrent ? 'r' : ''}`, arch: { ...base, upChannels: s.channels, upHidden: s.hidden }, recurrent })));

// --- training data (cached; the same folder `hcd train-data -o .cache/seq-train` fills) ---
const d = DEFAULTS.trainData;
const pair = await loadPair('hcd-x2');
const images = await loadImages([join(shared, 'train')], Math.max(d.width, d.height) + MOVE_LIMITS.pan * d.frames);
const seqDir = join(root, '.cache', 'seq-train');
const set = await buildSequences(seqDir, pair, images, SEQUENCES, { pair: pair.manifest.id, size: { width: d.width, height: d.height }, frames: d.frames, fps: d.fps, crfs: [...d.crfs], preset: DEFAULTS.encode.preset, seed: d.seed });

// --- training, cached per variant and step count ---
const shipped = (await loadInitSource(join(root, 'models', 'hcd-x2'), true)).params;
/** Trained weights kept as a train checkpoint (its Adam moments zero: nothing resumes from it). */
const save = (file: string, params: Params, variant: Variant) =>
  saveCheckpoint(file, { step: STEPS, rng: new Rng(0).state(), params, slots: new Map([...params].map(([k, v]) => [k, newSlot(v.data.length)])), history: [] }, { bench: 'upscaler-curve', variant: variant.id, recipe: VIDEO_TRAIN_DEFAULTS });
const trained = new Map<string, Params>();
const trainSeconds: Record<string, number> = {};
for (const v of VARIANTS) {
  const file = join(cache, `${v.id}-${STEPS}.checkpoint.json`);
  if (!existsSync(file)) {
    const grown = widenUp(shipped, base, v.arch, new Rng(7));
    const init = v.recurrent ? recurrentUp(grown, 2) : grown;
    const t0 = performance.now();
    let last = 0;
    const p = await trainUpOnSequences(init, v.arch, set, seqDir, { ...VIDEO_TRAIN_DEFAULTS, steps: STEPS, recurrent: v.recurrent, threads: 2 }, (s) => {
      if (s.step % 500 === 0 || s.step === s.of) console.log(`  ${v.id} step ${s.step}/${s.of}: batch PSNR ${s.psnr.toFixed(2)} dB, ${s.msPerStep.toFixed(0)} ms/step`);
      last = s.step;
    });
    trainSeconds[v.id] = (performance.now() - t0) / 1000;
    console.log(`${v.id}: ${last} steps in ${trainSeconds[v.id].toFixed(0)} s`);
    await save(file, p, v);
  }
  trained.set(v.id, (await loadCheckpoint(file)).state.params);
}

// --- measurement after the real codec ---
const vmaf = await resolveVmaf(join(shared, 'vmaf', 'vmaf_v0.6.1.pkl'));
const CLIPS = [
  { name: 'BBB forest', input: join(shared, 'video', 'big_buck_bunny_640x360.mp4'), start: 30, seconds: 3 },
  { name: 'Vid4 calendar', input: join(shared, 'video', 'vid4_calendar_lossless.mp4'), start: 0, seconds: undefined },
];
const CRFS = [26, 30, 34, 38, 42];

/** Frames between resets of the reset-cost pipelines (`U…r-reset`): about 1 s. */
const RESET_EVERY = 24;

/** C with a trained U; `resets` adds a reset every RESET_EVERY frames, to measure what a reset costs. */
function variantPipeline(c: FramePipeline, v: Variant, resets = false): FramePipeline {
  return {
    kind: 'frames',
    id: resets ? `${v.id}-reset` : v.id,
    label: `${pair.manifest.id} down, x264, U ${v.id} (${paramCount(trained.get(v.id)!, 'up.')} parameters${v.recurrent ? ', recurrent' : ''})`,
    scale: 2,
    sameLrAs: 'C',
    downscale: c.downscale,
    async *upscale(frames, lr) {
      const up = await SequenceUpscaler.create(trained.get(v.id)!, v.arch, v.recurrent, 2);
      // the player resets a recurrent U at every segment start; both clips are shorter than one
      // (6 s), so it runs from one reset over the whole clip
      try {
        let i = 0;
        for await (const data of frames) yield (await up.run({ ...lr, data }, resets ? i++ % RESET_EVERY === 0 : i++ === 0)).data;
      } finally {
        await up.close();
      }
    },
  };
}

interface Row {
  clip: string;
  id: string;
  params: number;
  macsPerHrPixel: number;
  recurrent: boolean;
  /** PSNR-Y minus the shipped U's at the same CRF (the same bits). */
  gainDb: Record<number, number>;
  bdPsnrVsBicubic: number;
  bdRateVsHullLow: number | null;
  bdRateVsHullLowVmaf: number | null;
  vmafGain: Record<number, number>;
}
const rows: Row[] = [];
/** What resets every RESET_EVERY frames cost a recurrent U: over the clip, and summed per reset (dB·frames). */
const resetCost: { clip: string; id: string; crf: number; clipDb: number; perResetFrameDb: number }[] = [];
const curveAt = (points: RdRow[], id: string, crfs: number[]) => points.filter((r) => r.pipeline === id && crfs.includes(r.crf)).map((r) => ({ bitrate: r.bitrate_kbps, psnr: r.psnr_y }));
for (const clip of CLIPS) {
  const conventional = await resolvePipelines([...DEFAULTS.compare.pipelines], { scale: 2 });
  const c = (await learnedPipeline('C', { model: 'hcd-x2', scale: 2, threads: 2 })) as FramePipeline;
  const pipelines = [...conventional, c, ...VARIANTS.map((v) => variantPipeline(c, v)), ...VARIANTS.filter((v) => v.recurrent).map((v) => variantPipeline(c, v, true))];
  const out = join(cache, 'compare', clip.name.replace(/\W+/g, '-'));
  const t0 = performance.now();
  const report: CompareReport = await runCompare({
    input: clip.input,
    outDir: out,
    start: clip.start,
    seconds: clip.seconds,
    crfs: CRFS,
    hullCrfs: [46, 51],
    pipelines,
    vmaf,
    log: (l) => !l.startsWith('  crf') && console.log(`[${clip.name}] ${l}`),
  });
  console.log(`[${clip.name}] compare: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  const at = (id: string, crf: number) => report.points.find((r) => r.pipeline === id && r.crf === crf)!;
  for (const v of VARIANTS.filter((x) => x.recurrent)) {
    const frames = report.input.frames;
    const extra = Math.ceil(frames / RESET_EVERY) - 1;
    // the clip's mean PSNR-Y falls by the resets' summed loss over its frames
    for (const crf of [34, 38, 42]) {
      const drop = at(v.id, crf).psnr_y - at(`${v.id}-reset`, crf).psnr_y;
      resetCost.push({ clip: clip.name, id: v.id, crf, clipDb: drop, perResetFrameDb: (drop * frames) / extra });
    }
  }
  for (const id of ['C', ...VARIANTS.map((v) => v.id)]) {
    const v = VARIANTS.find((x) => x.id === id);
    const params = v ? trained.get(id)! : shipped;
    const arch = v?.arch ?? base;
    const model = streamUpscalerModel(params, arch, v?.recurrent ?? false);
    rows.push({
      clip: clip.name,
      id: v ? id : SHIPPED,
      params: paramCount(params, 'up.'),
      macsPerHrPixel: Math.round(modelStats(model, [180, 320]).macs / (640 * 360)),
      recurrent: v?.recurrent ?? false,
      gainDb: Object.fromEntries(CRFS.map((crf) => [crf, at(id, crf).psnr_y - at('C', crf).psnr_y])),
      vmafGain: Object.fromEntries(CRFS.map((crf) => [crf, (at(id, crf).vmaf ?? NaN) - (at('C', crf).vmaf ?? NaN)])),
      bdPsnrVsBicubic: bdPsnr(curveAt(report.points, 'B', [...CRFS, 46, 51]), curveAt(report.points, id, [34, 38, 42])),
      bdRateVsHullLow: report.bd_rate_vs_hull_low[id] ?? null,
      bdRateVsHullLowVmaf: report.bd_rate_other_metrics.vmaf?.vs_hull_low[id] ?? null,
    });
  }
}

const f = (x: number | null, k = 2) => (x === null || !Number.isFinite(x) ? '-' : `${x >= 0 ? '+' : ''}${x.toFixed(k)}`);
console.log(`\n${STEPS} steps per variant, batch ${VIDEO_TRAIN_DEFAULTS.batch} x ${VIDEO_TRAIN_DEFAULTS.unroll} frames of ${VIDEO_TRAIN_DEFAULTS.crop}x${VIDEO_TRAIN_DEFAULTS.crop} LR, ${set.sequences.length} sequences`);
console.log('clip | U | params | MAC/HR px | PSNR-Y vs shipped U at CRF 34 / 38 / 42 (dB) | VMAF vs shipped U at CRF 34 / 38 / 42 | BD-PSNR vs bicubic x2, CRF 34-42 (dB) | BD-rate vs hull, low range, PSNR-Y / VMAF');
for (const r of rows)
  console.log(`${r.clip} | ${r.id} | ${r.params} | ${r.macsPerHrPixel} | ${[34, 38, 42].map((c) => f(r.gainDb[c], 3)).join(' / ')} | ${[34, 38, 42].map((c) => f(r.vmafGain[c], 2)).join(' / ')} | ${f(r.bdPsnrVsBicubic, 3)} | ${f(r.bdRateVsHullLow === null ? null : r.bdRateVsHullLow, 1)} % / ${f(r.bdRateVsHullLowVmaf, 1)} %`);
console.log(`\nreset cost: a recurrent U reset every ${RESET_EVERY} frames against once per clip, after the codec (PSNR-Y)`);
console.log('clip | U | CRF | clip mean (dB) | summed over the frames after one reset (dB x frames)');
for (const r of resetCost) console.log(`${r.clip} | ${r.id} | ${r.crf} | ${f(r.clipDb, 3)} | ${f(r.perResetFrameDb, 2)}`);
mkdirSync(join(here, 'out'), { recursive: true });
writeFileSync(join(here, 'out', 'upscaler-curve.json'), `${JSON.stringify({ steps: STEPS, train: VIDEO_TRAIN_DEFAULTS, trainSeconds, rows, resetCost }, null, 2)}\n`);

await plot(rows);
console.log('wrote bench/out/upscaler-curve.json and docs/img/upscaler-curve.svg');

/** The curve: gain over the shipped U at equal bits, mean over CRF 34-42, against parameters. */
async function plot(rows: Row[]): Promise<void> {
  const values = rows.filter((r) => r.id !== SHIPPED).map((r) => ({ params: r.params, gain: (r.gainDb[34] + r.gainDb[38] + r.gainDb[42]) / 3, series: `${r.clip}, ${r.recurrent ? 'recurrent' : 'frame by frame'}` }));
  const spec: vl.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'U after x264: PSNR-Y gain over the shipped U at equal bits (mean of CRF 34, 38, 42)',
    width: 480,
    height: 280,
    layer: [
      {
        data: { values },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'params', type: 'quantitative', scale: { type: 'log' }, title: 'U parameters (log scale)' },
          y: { field: 'gain', type: 'quantitative', title: 'dB over the shipped U (dashed: the 0.2 dB bar)' },
          color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom', direction: 'vertical', labelLimit: 400 } },
        },
      },
      { data: { values: [{ y: 0.2 }] }, mark: { type: 'rule', strokeDash: [4, 3], color: 'grey' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
    ],
  };
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  mkdirSync(join(root, 'docs', 'img'), { recursive: true });
  writeFileSync(join(root, 'docs', 'img', 'upscaler-curve.svg'), await view.toSVG());
}
