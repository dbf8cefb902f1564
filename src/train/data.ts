import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { HcdError } from '../shared/errors.js';
import { DEFAULT_MAX_PIXELS, readImage } from '../encoder/media/png.js';
import { BT709 } from '../shared/yuv.js';
import type { Rng } from '../shared/rng.js';

const { KR, KG, KB } = BT709;

/** A decoded training image, planar float 0-1 [3,H,W], decoded once and cropped from memory. */
export interface TrainImage {
  name: string;
  width: number;
  height: number;
  data: Float32Array;
}

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.webp', '.tif', '.tiff']);

async function listImages(dir: string): Promise<string[]> {
  let st;
  try {
    st = await stat(dir);
  } catch {
    throw new HcdError(`training data ${dir}: no such file or folder`);
  }
  if (st.isFile()) return [dir];
  const out: string[] = [];
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listImages(p)));
    else if (IMAGE_EXT.has(extname(e.name).toLowerCase())) out.push(p);
  }
  return out;
}

/** Every image under `dirs` of at least minSide x minSide; one over `maxPixels` stops the run before it is decoded. */
export async function loadImages(dirs: string[], minSide: number, maxPixels = DEFAULT_MAX_PIXELS): Promise<TrainImage[]> {
  const files = (await Promise.all(dirs.map(listImages))).flat();
  const out: TrainImage[] = [];
  for (const f of files) {
    const img = await readImage(f, { maxPixels });
    if (img.width < minSide || img.height < minSide) continue;
    const n = img.width * img.height;
    const data = new Float32Array(3 * n);
    for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) data[c * n + i] = img.data[3 * i + c] / 255;
    out.push({ name: f, width: img.width, height: img.height, data });
  }
  if (!out.length) throw new HcdError(`no training images of at least ${minSide}x${minSide} in ${dirs.join(', ')}`);
  return out;
}

/** Deterministic train/validation split: every `every`-th image (by sorted path) is held out. */
export function splitImages(imgs: TrainImage[], every: number): { train: TrainImage[]; val: TrainImage[] } {
  if (imgs.length < 2) return { train: imgs, val: imgs };
  const val = imgs.filter((_, i) => i % every === every - 1);
  const train = imgs.filter((_, i) => i % every !== every - 1);
  return val.length ? { train, val } : { train: imgs.slice(1), val: imgs.slice(0, 1) };
}

/**
 * Copies a PxP crop at (x0,y0) of `img` into `dst` at `offset`, transformed by one of the 8
 * symmetries of the square: bit 0 flips x, bit 1 flips y, bit 2 transposes.
 */
export function cropInto(img: TrainImage, x0: number, y0: number, p: number, sym: number, dst: Float32Array, offset: number): void {
  const { width: w, height: h, data } = img;
  const n = w * h;
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < p; y++)
      for (let x = 0; x < p; x++) {
        let sx = sym & 4 ? y : x;
        let sy = sym & 4 ? x : y;
        if (sym & 1) sx = p - 1 - sx;
        if (sym & 2) sy = p - 1 - sy;
        dst[offset + (c * p + y) * p + x] = data[c * n + (y0 + sy) * w + x0 + sx];
      }
}

/** A batch of random crops with random flips/rotations, [B,3,P,P]. Draws from `rng` only. */
export function sampleBatch(imgs: TrainImage[], batch: number, p: number, rng: Rng): Float32Array {
  const out = new Float32Array(batch * 3 * p * p);
  for (let b = 0; b < batch; b++) {
    const img = imgs[rng.int(imgs.length)];
    const x0 = rng.int(img.width - p + 1);
    const y0 = rng.int(img.height - p + 1);
    cropInto(img, x0, y0, p, rng.int(8), out, b * 3 * p * p);
  }
  return out;
}

/**
 * Colour augmentation for a batch of planar crops: each crop, with probability `prob`, gets its
 * colour (the difference from BT.709 luma) scaled by a factor drawn in 1-3, then clipped to 0-1.
 * Natural photos rarely hold strongly saturated fine colour texture; a still head that never saw
 * any reads it as the detail D hides in colour (docs/models.md).
 */
export function saturateBatch(x: Float32Array, batch: number, p: number, prob: number, rng: Rng): void {
  const n = p * p;
  for (let b = 0; b < batch; b++) {
    if (rng.next() >= prob) continue;
    const k = 1 + 2 * rng.next();
    const o = b * 3 * n;
    for (let i = 0; i < n; i++) {
      const y = KR * x[o + i] + KG * x[o + n + i] + KB * x[o + 2 * n + i];
      for (let c = 0; c < 3; c++) x[o + c * n + i] = Math.min(1, Math.max(0, y + k * (x[o + c * n + i] - y)));
    }
  }
}

/** Fixed validation crops: a grid of up to `perImage` PxP crops from each held-out image. */
export function validationCrops(imgs: TrainImage[], p: number, perImage: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (const img of imgs) {
    const nx = Math.max(1, Math.floor(img.width / p));
    const ny = Math.max(1, Math.floor(img.height / p));
    let k = 0;
    for (let j = 0; j < ny && k < perImage; j++)
      for (let i = 0; i < nx && k < perImage; i++, k++) {
        const buf = new Float32Array(3 * p * p);
        cropInto(img, i * p, j * p, p, 0, buf, 0);
        out.push(buf);
      }
  }
  return out;
}
