/**
 * The curve of HCD's gain against iterations: mean Y-PSNR gain over the pair (BT.601 Y, border
 * of `scale` pixels cropped, SR rounded to 8 bits, as `hcd eval`) after each iterate k of the HR
 * stage (k = 0 is the random start) and then of the LR stage (continuing from the finished HR
 * stage), drawn with vega-lite.
 *
 *   node --import tsx bench/hcd-curve.ts [FILES_OR_DIRS...] [--model rdn-x2] [--hcd-iters 15,15]
 *        [--eps E] [--alpha A] [--rule l2] [--schedule constant|cosine]
 *        [--keep-best] [--label NAME] [--data FILE.json] [--svg FILE.svg] [--no-curve]
 *   node --import tsx bench/hcd-curve.ts --redraw [--data FILE.json] [--svg FILE.svg]
 *
 * Default: Set5 from /work/shared/data/eval (skips cleanly without it), rdn-x2, 15 + 15.
 * A run with --label stores its series under that label in --data (default
 * docs/img/hcd-gain-vs-iters.json, replacing a series of the same label) and redraws --svg from
 * every series there, so settings can be compared on one picture; without --label (as from
 * `npm run bench`) it only prints. The HR iterate's gain needs U(Q(D(x'))) on the whole image and
 * the LR iterate's U(Q(y')): two forwards per iteration that the method itself does not run.
 * --no-curve runs the method alone and prints only the final gain (for tuning); it writes nothing.
 * --redraw only draws --svg again from --data.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { parseIters } from '../src/cli/flags.js';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { listImages } from '../src/stills/eval.js';
import { writeFileAtomic } from '../src/encoder/media/files.js';
import { readImage } from '../src/encoder/media/png.js';
import { resolvePair } from '../src/encoder/pairs/index.js';
import { quantize8 } from '../src/shared/image.js';
import { Hcd, type HcdIterEvent, type Planar } from '../src/encoder/hcd/hcd.js';
import { resolveOptions } from '../src/encoder/hcd/options.js';
import { PlainPair } from '../src/encoder/pairs/plain.js';
import { fitToScale, imageToPlanar, planarToImage, quality } from '../src/encoder/hcd/quality.js';
import { pastePlanar, type Tile } from '../src/encoder/hcd/tiles.js';
import type { StepRule, StepSchedule } from '../src/encoder/hcd/pgd.js';
import type { RgbImage } from '../src/shared/image.js';

const { values: a, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    model: { type: 'string', default: 'rdn-x2' },
    'hcd-iters': { type: 'string', default: '15,15' },
    eps: { type: 'string' },
    alpha: { type: 'string' },
    rule: { type: 'string' },
    schedule: { type: 'string' },
    'keep-best': { type: 'boolean', default: false },
    seed: { type: 'string' },
    lanes: { type: 'string' },
    label: { type: 'string' },
    data: { type: 'string', default: 'docs/img/hcd-gain-vs-iters.json' },
    svg: { type: 'string', default: 'docs/img/hcd-gain-vs-iters.svg' },
    'no-curve': { type: 'boolean', default: false },
    redraw: { type: 'boolean', default: false },
  },
});

interface Point {
  stage: 'HR' | 'LR';
  k: number;
  /** Position on the chart: HR k at k, LR k at hrIters + k. */
  x: number;
  gain: number;
}

interface Series {
  label: string;
  model: string;
  images: string[];
  options: Record<string, unknown>;
  points: Point[];
  /** Gain of the LR the method returns (differs from the last point with --keep-best). */
  final_gain: number;
  lr_psnr: number;
  seconds_per_image: number;
}

const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
const readSeries = (): Series[] => (existsSync(a.data) ? (JSON.parse(readFileSync(a.data, 'utf8')) as { series: Series[] }).series : []);
if (a.redraw) {
  await writeFileAtomic(a.svg, Buffer.from(await chartSvg(readSeries())));
  process.stdout.write(`wrote ${a.svg}\n`);
  process.exit(0);
}
const inputs = positionals.length ? positionals : ['/work/shared/data/eval/Set5'];
if (!positionals.length && !existsSync(inputs[0])) {
  console.log(`skipped: ${inputs[0]} not found`);
  process.exit(0);
}
const opts = resolveOptions({
  iters: parseIters(a['hcd-iters']),
  eps: num(a.eps),
  alpha: num(a.alpha),
  rule: a.rule as StepRule | undefined,
  schedule: a.schedule as StepSchedule | undefined,
  keepBest: a['keep-best'],
  seed: num(a.seed),
  lanes: num(a.lanes),
});
const curve = !a['no-curve'];
const files = await listImages(inputs);
const pair = await resolvePair(a.model);
const s = pair.manifest.scale;
const hcd = await Hcd.create(pair, opts);
const plain = await PlainPair.create(pair);
const label = a.label ?? `${a.model}, eps ${opts.eps}, alpha ${(opts.alpha * 255).toFixed(0)}/255${opts.schedule === 'cosine' ? ', cosine' : ''}${opts.keepBest ? ', best iterate' : ''}`;
process.stdout.write(`${label}: ${files.length} images, ${opts.iters[0]}+${opts.iters[1]} iterations\n`);

const yPsnr = async (lr: Planar, hr: RgbImage) => quality(planarToImage(await plain.upscale(lr)), hr, s).psnr_y;
const sums = { hr: new Array<number>(opts.iters[0] + 1).fill(0), lr: new Array<number>(opts.iters[1] + 1).fill(0), final: 0, lrDb: 0, seconds: 0 };
for (const f of files) {
  const hr = fitToScale(await readImage(f), s, 16, f);
  const x = imageToPlanar(hr);
  const W = hr.width / s;
  const H = hr.height / s;
  const lrAt = { hr: [] as Float32Array[], lr: [] as Float32Array[] };
  // one LR image per iterate; each tile pastes its core into it
  const paste = (stage: 'hr' | 'lr', k: number, t: Tile, lr: Float32Array) => {
    const arr = lrAt[stage];
    arr[k] ??= new Float32Array(3 * W * H);
    pastePlanar(lr, t.pw, t.ph, t.x - t.px, t.y - t.py, t.w, t.h, arr[k], W, H, t.x, t.y);
  };
  const onIter = async (e: HcdIterEvent) => {
    if (e.stage === 'hr') paste('hr', e.k, e.tile, (await plain.downscale({ data: e.iterate, width: e.tile.pw * s, height: e.tile.ph * s })).data);
    else if (e.stage === 'lr') paste('lr', e.k, e.tile, quantize8(e.iterate, new Float32Array(e.iterate.length)));
  };
  const r = await hcd.run(x, { onIter: curve ? onIter : undefined });
  const base = await yPsnr(r.lrBase!, hr);
  const gain = async (lr: Float32Array) => (await yPsnr({ data: lr, width: W, height: H }, hr)) - base;
  const final = await gain(r.lr.data);
  sums.final += final;
  sums.lrDb += r.lrPsnr;
  sums.seconds += r.seconds;
  const line: string[] = [];
  if (curve) {
    for (const st of ['hr', 'lr'] as const) {
      for (let k = 0; k < lrAt[st].length; k++) sums[st][k] += await gain(lrAt[st][k]);
      line.push(`${st.toUpperCase()} k=0 ${(await gain(lrAt[st][0])).toFixed(2)}`);
    }
  }
  process.stdout.write(`  ${basename(f)}: final ${final >= 0 ? '+' : ''}${final.toFixed(3)} dB, LR ${r.lrPsnr.toFixed(1)} dB, ${r.seconds.toFixed(1)} s${line.length ? `; ${line.join(', ')}` : ''}\n`);
}
await Promise.all([hcd.close(), plain.close()]);

const n = files.length;
const series: Series = {
  label,
  model: a.model,
  images: files.map((f) => basename(f)),
  options: { hcdIters: opts.iters, eps: opts.eps, alpha: opts.alpha, rule: opts.rule, schedule: opts.schedule ?? 'constant', keepBest: !!opts.keepBest, tile: opts.tile, halo: opts.halo, seed: opts.seed },
  points: [
    ...sums.hr.map((g, k) => ({ stage: 'HR' as const, k, x: k, gain: g / n })),
    ...sums.lr.map((g, k) => ({ stage: 'LR' as const, k, x: opts.iters[0] + k, gain: g / n })),
  ],
  final_gain: sums.final / n,
  lr_psnr: sums.lrDb / n,
  seconds_per_image: sums.seconds / n,
};
process.stdout.write(`mean gain of the returned LR ${series.final_gain.toFixed(3)} dB, LR ${series.lr_psnr.toFixed(1)} dB from the plain LR, ${series.seconds_per_image.toFixed(1)} s per image (with the curve's forwards: ${curve})\n`);
if (curve) {
  process.stdout.write(`${'k'.padStart(3)} ${'HR gain'.padStart(8)} ${'LR gain'.padStart(8)}\n`);
  for (let k = 0; k <= Math.max(opts.iters[0], opts.iters[1]); k++) {
    const c = (v: number | undefined) => (v === undefined ? '' : (v / n).toFixed(3)).padStart(8);
    process.stdout.write(`${String(k).padStart(3)} ${c(sums.hr[k])} ${c(sums.lr[k])}\n`);
  }
}
if (curve && a.label !== undefined) {
  const all = readSeries().filter((x) => x.label !== label);
  all.push(series);
  await writeFileAtomic(a.data, Buffer.from(JSON.stringify({ series: all }, null, 1) + '\n'));
  await writeFileAtomic(a.svg, Buffer.from(await chartSvg(all)));
  process.stdout.write(`wrote ${a.data} and ${a.svg} (${all.length} series)\n`);
}
process.stdout.write(`hcd_curve.final_gain_db=${series.final_gain.toFixed(3)}\n`);

/** Gain against iteration, one colour per series; the line breaks where the LR stage starts. */
async function chartSvg(all: Series[]): Promise<string> {
  const values = all.flatMap((sr) => sr.points.map((p) => ({ series: `${sr.label} (${sr.images.length} images)`, part: `${sr.label}/${p.stage}`, ...p })));
  const hrIters = Math.max(...all.map((sr) => Number((sr.options.hcdIters as number[])[0])));
  const spec: vl.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'HCD gain against iterations', subtitle: 'mean Y-PSNR gain over the pair without HCD; HR stage, then LR stage (k = 0: random start)' },
    width: 560,
    height: 320,
    layer: [
      {
        data: { values },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: `iteration (HR stage 0-${hrIters}, then LR stage)` },
          y: { field: 'gain', type: 'quantitative', title: 'Y-PSNR gain over the pair (dB)' },
          color: { field: 'series', type: 'nominal', title: null, legend: { labelLimit: 360, orient: 'bottom', direction: 'vertical' } },
          detail: { field: 'part', type: 'nominal' },
        },
        layer: [{ mark: { type: 'line' } }, { mark: { type: 'point', filled: true, size: 18 }, encoding: { tooltip: [{ field: 'series' }, { field: 'stage' }, { field: 'k' }, { field: 'gain', format: '.3f' }] } }],
      },
      { data: { values: [{ x: hrIters }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#888' }, encoding: { x: { field: 'x', type: 'quantitative' } } },
    ],
  };
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
