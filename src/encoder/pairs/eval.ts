import type { RgbImage } from '../../shared/image.js';
import { PairNetwork } from './network.js';
import { readImage } from '../media/png.js';
import type { RescalingPair } from './types.js';

/**
 * Measuring a pair the way SR papers do: HR cropped to a multiple of the scale, D, rounded to
 * 8 bits (as the rendition stores it), U, rounded, then PSNR on MATLAB's BT.601 luma with
 * `scale` border pixels shaved.
 */
export async function readPng(path: string): Promise<RgbImage> {
  return readImage(path);
}

export function cropTo(img: RgbImage, multiple: number): RgbImage {
  const width = img.width - (img.width % multiple);
  const height = img.height - (img.height % multiple);
  const data = new Uint8Array(3 * width * height);
  for (let y = 0; y < height; y++) data.set(img.data.subarray(3 * y * img.width, 3 * (y * img.width + width)), 3 * y * width);
  return { width, height, data };
}

/** PSNR of MATLAB rgb2ycbcr's Y channel (16-235), `shave` pixels off every border. */
export function yPsnr(a: RgbImage, b: RgbImage, shave: number): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`sizes differ: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  let se = 0;
  let n = 0;
  for (let y = shave; y < a.height - shave; y++)
    for (let x = shave; x < a.width - shave; x++) {
      const i = 3 * (y * a.width + x);
      const ya = (65.481 * a.data[i] + 128.553 * a.data[i + 1] + 24.966 * a.data[i + 2]) / 255;
      const yb = (65.481 * b.data[i] + 128.553 * b.data[i + 1] + 24.966 * b.data[i + 2]) / 255;
      se += (ya - yb) ** 2;
      n++;
    }
  return 10 * Math.log10((255 * 255) / (se / n));
}

export interface PairRunner {
  down(img: RgbImage): Promise<RgbImage>;
  /** U for a lossless RGB LR (the pair's still upscaler where it has one). */
  up(img: RgbImage): Promise<RgbImage>;
  /** U for an LR that went through 4:2:0 (decoded video, x264 stills): what the player runs. */
  up420(img: RgbImage): Promise<RgbImage>;
}

export async function pairRunner(pair: RescalingPair, threads?: number): Promise<PairRunner> {
  const d = await PairNetwork.down(pair, { threads });
  const u = await PairNetwork.up(pair, '420', { threads });
  const still = pair.stillUpscaler ? await PairNetwork.up(pair, 'rgb', { threads }) : u;
  return { down: (img) => d.runRgb(img), up: (img) => still.runRgb(img), up420: (img) => u.runRgb(img) };
}
