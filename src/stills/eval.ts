/**
 * `hcd eval`: the paper's ablation on images or folders: bicubic, the pair, HR stage only, LR
 * stage only, and both, with PSNR/SSIM on Y with the border cropped.
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { HcdError } from '../shared/errors.js';
import type { AblationRow } from '../encoder/hcd/ablation.js';
import { meanQuality, type Quality } from '../encoder/hcd/quality.js';
import { loadPair, defaultModelId } from '../encoder/pairs/load.js';
import { readImage } from '../encoder/media/png.js';
import { fitStill, type StillOptions } from './image.js';

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

export const VARIANTS = ['bicubic', 'pair', 'hr_only', 'lr_only', 'hcd'] as const;

export type EvalRow = AblationRow & { file: string };

export interface EvalReport {
  model: string;
  scale: number;
  images: EvalRow[];
  mean: Record<(typeof VARIANTS)[number], Quality>;
}

export async function evalJob(inputs: string[], o: StillOptions, onImage?: (row: EvalRow, i: number, of: number) => void): Promise<EvalReport> {
  const files = await listImages(inputs);
  // loaded here, so that other commands start without the gradient engine
  const { ablation, Hcd } = await import('../encoder/hcd/index.js');
  const { PlainPair } = await import('../encoder/pairs/plain.js');
  const pair = await loadPair(o.model ?? defaultModelId());
  const s = pair.manifest.scale;
  const bicubicPair = await loadPair(`bicubic-x${s}`);
  // read and check every image before the long part
  const images = [];
  for (const f of files) images.push(fitStill(await readImage(f, { maxPixels: o.maxPixels }), pair, f));
  const hcd = await Hcd.create(pair, o.hcd);
  const bicubic = await PlainPair.create(bicubicPair, { threads: o.hcd.threads });
  const rows: EvalRow[] = [];
  try {
    for (let i = 0; i < files.length; i++) {
      rows.push({ file: files[i], ...(await ablation(hcd, bicubic, images[i])) });
      onImage?.(rows[i], i, files.length);
    }
  } finally {
    await hcd.close();
    await bicubic.close();
  }
  const mean = Object.fromEntries(VARIANTS.map((v) => [v, meanQuality(rows.map((r) => r[v]))])) as EvalReport['mean'];
  return { model: pair.manifest.id, scale: s, images: rows, mean };
}
