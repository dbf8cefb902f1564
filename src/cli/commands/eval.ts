import { basename } from 'node:path';
import type { Command } from 'commander';
import { evalJob, VARIANTS } from '../../stills/eval.js';
import { addHcdOptions, hcdOptionsFrom, type HcdCliOptions } from './image.js';

export function registerEval(program: Command): void {
  addHcdOptions(
    program
      .command('eval <inputs...>')
      .description("the HCD paper's ablation on images or folders: bicubic, the pair, HR stage only, LR stage only, both (PSNR/SSIM, Y with the border cropped)"),
  ).action(async (inputs: string[], o: HcdCliOptions) => {
    const opts = hcdOptionsFrom(o);
    const { model, scale, images: rows, mean } = await evalJob(inputs, { model: o.model, hcd: opts, maxPixels: o.maxPixels }, (row, i, of) => {
      process.stderr.write(
        `[${i + 1}/${of}] ${basename(row.file)}: Y-PSNR bicubic ${row.bicubic.psnr_y.toFixed(2)}  pair ${row.pair.psnr_y.toFixed(2)}  hr_only ${row.hr_only.psnr_y.toFixed(2)}  lr_only ${row.lr_only.psnr_y.toFixed(2)}  hcd ${row.hcd.psnr_y.toFixed(2)}  (LR ${row.lr_psnr.toFixed(1)} dB, ${row.seconds.toFixed(1)} s)\n`,
      );
    });
    if (o.json) {
      const images = rows.map((r) => ({
        file: r.file,
        bicubic: r.bicubic,
        pair: r.pair,
        hr_only: r.hr_only,
        lr_only: r.lr_only,
        hcd: r.hcd,
        lr_psnr: r.lr_psnr,
        seconds: r.seconds,
      }));
      process.stdout.write(`${JSON.stringify({ model, scale, images, mean })}\n`);
      return;
    }
    const lines = [`model ${model} x${scale}, ${rows.length} images, ${opts.iters[0]}+${opts.iters[1]} iterations, eps ${opts.eps}, alpha ${opts.alpha.toFixed(4)}, rule ${opts.rule}${opts.schedule === 'cosine' ? ', cosine schedule' : ''}${opts.keepBest ? ', best iterate' : ''}`];
    lines.push(`${'variant'.padEnd(10)} ${'PSNR'.padStart(7)} ${'Y-PSNR'.padStart(7)} ${'Y-SSIM'.padStart(7)}`);
    for (const v of VARIANTS) lines.push(`${v.padEnd(10)} ${mean[v].psnr_rgb.toFixed(2).padStart(7)} ${mean[v].psnr_y.toFixed(2).padStart(7)} ${mean[v].ssim_y.toFixed(4).padStart(7)}`);
    const secs = rows.reduce((a, r) => a + r.seconds, 0) / rows.length;
    const lrDb = rows.reduce((a, r) => a + r.lr_psnr, 0) / rows.length;
    lines.push(`HCD gain over the pair: Y-PSNR ${(mean.hcd.psnr_y - mean.pair.psnr_y).toFixed(2)} dB; LR ${lrDb.toFixed(1)} dB from the plain LR (mean); ${secs.toFixed(1)} s per image`);
    process.stdout.write(lines.join('\n') + '\n');
  });
}
