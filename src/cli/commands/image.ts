import type { Command } from 'commander';
import { HcdError } from '../../shared/errors.js';
import { DEFAULT_MAX_PIXELS } from '../../encoder/media/png.js';
import { DEFAULTS } from '../../config.js';
import { imageJob } from '../../stills/image.js';
import { resolveOptions, type HcdIters, type HcdOptions } from '../../encoder/hcd/options.js';
import { num, parseIters } from '../flags.js';
import type { Quality } from '../../encoder/hcd/quality.js';
import type { StepRule, StepSchedule } from '../../encoder/hcd/pgd.js';

/** Options shared by `hcd image` and `hcd eval`. */
export interface HcdCliOptions {
  model?: string;
  hcdIters?: HcdIters;
  eps?: number;
  alpha?: number;
  seed?: number;
  rule?: string;
  tile?: number;
  halo?: number;
  minLrPsnr?: number;
  lanes?: number;
  threads?: number;
  schedule?: string;
  keepBest?: boolean;
  maxPixels?: number;
  json?: boolean;
}


const count = (name: string) => (v: string) => {
  const n = num(name)(v);
  if (!Number.isInteger(n) || n < 1) throw new HcdError(`--${name} must be a whole number of at least 1 (got '${v}')`);
  return n;
};

export function addHcdOptions(cmd: Command): Command {
  return cmd
    .option('--model <id>', 'rescaling pair: built-in id (bicubic-x2, rdn-x2, ...), models/ folder id or path (default: hcd-x2 if trained, else rdn-x2)')
    .option('--hcd-iters <hr,lr>', `HCD iterations of the HR and LR stages (default ${DEFAULTS.still.hcdIters.join(',')})`, parseIters)
    .option('--eps <e>', 'perturbation budget per 128x128 LR tile: L2 radius for l2/adam (default 0.3), max per value for linf', num('eps'))
    .option('--alpha <a>', 'step size (default 20/255 per tile for l2)', num('alpha'))
    .option('--rule <r>', 'step rule: l2 (official PGD), linf (sign steps) or adam', undefined)
    .option('--seed <k>', 'seed of the random start (default 0)', num('seed'))
    .option('--tile <n>', 'LR tile side for patch mode, 0 for the whole image (default 128)', num('tile'))
    .option('--halo <n>', 'LR pixels of context around each tile (default 8)', num('halo'))
    .option('--min-lr-psnr <db>', 'keep the collaborative LR at least this close (PSNR dB) to the plain LR', num('min-lr-psnr'))
    .option('--lanes <n>', 'tiles optimized side by side, each with cores/lanes threads (default 2)', num('lanes'))
    .option('--threads <n>', 'threads per lane (default: the cores split between lanes)', num('threads'))
    .option('--schedule <s>', 'step size over the iterations: constant (official, default) or cosine (annealed towards 0)', undefined)
    .option('--keep-best', "keep each tile's lowest-loss iterate instead of the last (one more gradient evaluation per stage)")
    .option('--max-pixels <n>', `refuse images with more pixels than this, before decoding them (default ${DEFAULT_MAX_PIXELS})`, count('max-pixels'))
    .option('--json', 'print JSON on stdout');
}

export function hcdOptionsFrom(o: HcdCliOptions): HcdOptions {
  return resolveOptions({
    iters: o.hcdIters ?? [...DEFAULTS.still.hcdIters],
    eps: o.eps,
    alpha: o.alpha,
    seed: o.seed,
    rule: o.rule as StepRule | undefined,
    tile: o.tile,
    halo: o.halo,
    minLrPsnr: o.minLrPsnr,
    lanes: o.lanes,
    threads: o.threads,
    schedule: o.schedule as StepSchedule | undefined,
    keepBest: o.keepBest,
  });
}

export function fmtQ(q: Quality): string {
  return `PSNR ${q.psnr_rgb.toFixed(2)} dB  Y-PSNR ${q.psnr_y.toFixed(2)} dB  Y-SSIM ${q.ssim_y.toFixed(4)}`;
}

export function registerImage(program: Command): void {
  addHcdOptions(
    program
      .command('image <input>')
      .description('HCD on one image: writes lr.png (collaborative LR), sr.png, lr_base.png and sr_base.png (the pair without HCD)')
      .requiredOption('-o, --output <dir>', 'output folder'),
  ).action(async (input: string, o: HcdCliOptions & { output: string }) => {
    const opts = hcdOptionsFrom(o);
    const out = await imageJob(input, o.output, { model: o.model, hcd: opts, maxPixels: o.maxPixels });
    const r = out.result;
    const report = {
      model: out.model,
      scale: out.scale,
      width: out.width,
      height: out.height,
      cropped: out.cropped,
      hcd: out.hcd,
      pair: out.pair,
      lr_psnr: r.lrPsnr,
      lr_kept: r.lrKept,
      seconds: r.seconds,
      loss: { hr: r.hr.losses, lr: r.lrStage.losses },
      time_ms: { hr_model: r.hr.modelMs, hr_js: r.hr.jsMs, lr_model: r.lrStage.modelMs, lr_js: r.lrStage.jsMs },
      files: out.files,
    };
    if (o.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return;
    }
    const js = r.hr.jsMs + r.lrStage.jsMs;
    const model = r.hr.modelMs + r.lrStage.modelMs;
    process.stdout.write(
      [
        `${input}: ${out.width}x${out.height}${out.cropped ? ` (cropped from ${out.original.width}x${out.original.height})` : ''}, model ${out.model} x${out.scale}, ${opts.iters[0]}+${opts.iters[1]} iterations, ${r.seconds.toFixed(1)} s`,
        `  sr.png      (HCD)   ${fmtQ(out.hcd)}`,
        `  sr_base.png (pair)  ${fmtQ(out.pair)}`,
        `  gain                Y-PSNR ${(out.hcd.psnr_y - out.pair.psnr_y >= 0 ? '+' : '')}${(out.hcd.psnr_y - out.pair.psnr_y).toFixed(2)} dB`,
        `  lr.png vs lr_base.png: PSNR ${r.lrPsnr.toFixed(2)} dB${r.lrKept < 1 ? ` (change scaled to ${(r.lrKept * 100).toFixed(0)}% for --min-lr-psnr)` : ''}`,
        `  time: model ${(model / 1000).toFixed(2)} s, JS in the loop ${(js / 1000).toFixed(3)} s (${((100 * js) / Math.max(1e-9, js + model)).toFixed(1)}%)`,
        `  wrote ${report.files.join(', ')}`,
      ].join('\n') + '\n',
    );
  });
}
