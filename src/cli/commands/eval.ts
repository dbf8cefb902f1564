import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { Command } from 'commander';
import { HcdError } from '../../shared/errors.js';
import { readImage } from '../../encoder/media/png.js';
import { loadPair, defaultModelId } from '../../encoder/pairs/load.js';
import type { AblationRow } from '../../encoder/hcd/ablation.js';
import { meanQuality, type Quality } from '../../encoder/hcd/quality.js';
import { addHcdOptions, hcdOptionsFrom, MIN_LR, type HcdCliOptions } from './image.js';

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.webp', '.tif', '.tiff']);

/** Files as given, and the images inside folders (sorted, not recursive). */
export async function listImages(args: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const a of args) {
    let st;
    try {
      st = await stat(a);
    } catch {
      throw new HcdError(`no such file or folder: ${a}`);
    }
    if (st.isDirectory()) {
      const names = (await readdir(a)).filter((n) => IMAGE_EXT.has(extname(n).toLowerCase()) && !n.startsWith('.')).sort();
      if (!names.length) throw new HcdError(`no images in folder ${a}`);
      out.push(...names.map((n) => join(a, n)));
    } else out.push(a);
  }
  return out;
}

const VARIANTS = ['bicubic', 'pair', 'hr_only', 'lr_only', 'hcd'] as const;

export function registerEval(program: Command): void {
  addHcdOptions(
    program
      .command('eval <inputs...>')
      .description("the HCD paper's ablation on images or folders: bicubic, the pair, HR stage only, LR stage only, both (PSNR/SSIM, Y with the border cropped)"),
  ).action(async (inputs: string[], o: HcdCliOptions) => {
    const opts = hcdOptionsFrom(o);
    const files = await listImages(inputs);
    const { ablation, fitToScale, Hcd } = await import('../../encoder/hcd/index.js');
    const { PlainPair } = await import('../../encoder/pairs/plain.js');
    const pair = await loadPair(o.model ?? defaultModelId());
    const s = pair.manifest.scale;
    const bicubicPair = await loadPair(`bicubic-x${s}`);
    // read and check every image before the long part
    const minLr = Math.max(MIN_LR, pair.manifest.minLrSize);
    const images = [];
    for (const f of files) images.push(fitToScale(await readImage(f, { maxPixels: o.maxPixels }), s, minLr, f, pair.manifest.lrMultiple));
    const hcd = await Hcd.create(pair, opts);
    const bicubic = await PlainPair.create(bicubicPair, { threads: opts.threads });
    const rows: (AblationRow & { file: string })[] = [];
    try {
      for (let i = 0; i < files.length; i++) {
        const row = await ablation(hcd, bicubic, images[i]);
        rows.push({ file: files[i], ...row });
        process.stderr.write(
          `[${i + 1}/${files.length}] ${basename(files[i])}: Y-PSNR bicubic ${row.bicubic.psnr_y.toFixed(2)}  pair ${row.pair.psnr_y.toFixed(2)}  hr_only ${row.hr_only.psnr_y.toFixed(2)}  lr_only ${row.lr_only.psnr_y.toFixed(2)}  hcd ${row.hcd.psnr_y.toFixed(2)}  (LR ${row.lr_psnr.toFixed(1)} dB, ${row.seconds.toFixed(1)} s)\n`,
        );
      }
    } finally {
      await hcd.close();
      await bicubic.close();
    }
    const mean = Object.fromEntries(VARIANTS.map((v) => [v, meanQuality(rows.map((r) => r[v]))])) as Record<(typeof VARIANTS)[number], Quality>;
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
      process.stdout.write(`${JSON.stringify({ model: pair.manifest.id, scale: s, images, mean })}\n`);
      return;
    }
    const lines = [`model ${pair.manifest.id} x${s}, ${files.length} images, ${opts.iters[0]}+${opts.iters[1]} iterations, eps ${opts.eps}, alpha ${opts.alpha.toFixed(4)}, rule ${opts.rule}${opts.schedule === 'cosine' ? ', cosine schedule' : ''}${opts.keepBest ? ', best iterate' : ''}`];
    lines.push(`${'variant'.padEnd(10)} ${'PSNR'.padStart(7)} ${'Y-PSNR'.padStart(7)} ${'Y-SSIM'.padStart(7)}`);
    for (const v of VARIANTS) lines.push(`${v.padEnd(10)} ${mean[v].psnr_rgb.toFixed(2).padStart(7)} ${mean[v].psnr_y.toFixed(2).padStart(7)} ${mean[v].ssim_y.toFixed(4).padStart(7)}`);
    const secs = rows.reduce((a, r) => a + r.seconds, 0) / rows.length;
    const lrDb = rows.reduce((a, r) => a + r.lr_psnr, 0) / rows.length;
    lines.push(`HCD gain over the pair: Y-PSNR ${(mean.hcd.psnr_y - mean.pair.psnr_y).toFixed(2)} dB; LR ${lrDb.toFixed(1)} dB from the plain LR (mean); ${secs.toFixed(1)} s per image`);
    process.stdout.write(lines.join('\n') + '\n');
  });
}
