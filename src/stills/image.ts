/**
 * `hcd image`: HCD on one still, written as four PNGs that appear together or not at all: the
 * collaborative LR and its upscaling, and the pair's own LR and upscaling beside them.
 */
import { join } from 'node:path';
import { HcdError } from '../shared/errors.js';
import type { RgbImage } from '../shared/image.js';
import { checkOutputFolder, makeFolder, writeFilesAtomic } from '../encoder/media/files.js';
import { encodePng, readImage } from '../encoder/media/png.js';
import type { HcdOptions } from '../encoder/hcd/options.js';
import type { HcdResult } from '../encoder/hcd/hcd.js';
import { fitToScale, type Quality } from '../encoder/hcd/quality.js';
import { loadPair, defaultModelId, type RescalingPair } from '../encoder/pairs/load.js';

/** The LR must hold at least one 16x16 block, whatever the pair allows. */
export const MIN_LR = 16;

export interface StillOptions {
  model?: string;
  hcd: HcdOptions;
  maxPixels?: number;
}

/** A still cropped to what the pair takes (as SR papers crop to the scale), checked for size. */
export function fitStill(img: RgbImage, pair: RescalingPair, file: string): RgbImage {
  const m = pair.manifest;
  return fitToScale(img, m.scale, Math.max(MIN_LR, m.minLrSize), file, m.lrMultiple);
}

export interface ImageReport {
  model: string;
  scale: number;
  width: number;
  height: number;
  /** The image's own size, when it was cropped. */
  original: { width: number; height: number };
  cropped: boolean;
  hcd: Quality;
  pair: Quality;
  result: HcdResult;
  files: string[];
}

export async function imageJob(input: string, output: string, o: StillOptions): Promise<ImageReport> {
  checkOutputFolder(output);
  // loaded here, so that other commands start without the gradient engine
  const { Hcd, hcdImage } = await import('../encoder/hcd/index.js');
  const img = await readImage(input, { maxPixels: o.maxPixels });
  const pair = await loadPair(o.model ?? defaultModelId());
  const hr = fitStill(img, pair, input);
  const hcd = await Hcd.create(pair, o.hcd);
  let out;
  try {
    out = await hcdImage(hcd, hr);
  } finally {
    await hcd.close();
  }
  makeFolder(output);
  const files: [string, Buffer][] = [
    [join(output, 'lr.png'), encodePng(out.lr)],
    [join(output, 'sr.png'), encodePng(out.sr)],
    [join(output, 'lr_base.png'), encodePng(out.lrBase)],
    [join(output, 'sr_base.png'), encodePng(out.srBase)],
  ];
  try {
    await writeFilesAtomic(files);
  } catch (e) {
    throw new HcdError(`cannot write to ${output}: ${(e as Error).message}`);
  }
  const m = pair.manifest;
  return { model: m.id, scale: m.scale, width: hr.width, height: hr.height, original: { width: img.width, height: img.height }, cropped: hr !== img, hcd: out.hcd, pair: out.pair, result: out.result, files: files.map(([f]) => f) };
}
