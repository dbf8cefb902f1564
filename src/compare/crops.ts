import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { psnrY, ssimY } from '../shared/metrics.js';
import type { RgbImage } from '../shared/image.js';
import { readFrames } from '../encoder/media/decode.js';
import { writePng } from '../encoder/media/png.js';
import type { SourceInfo } from './source.js';
import type { CropReport, Pipeline, Size } from './types.js';


/** Frame `k` of an async frame stream; stops the stream (and its ffmpeg) right after. */
async function nth(frames: AsyncIterable<Uint8Array>, k: number): Promise<Uint8Array> {
  let i = 0;
  for await (const f of frames) {
    if (i++ === k) return f;
  }
  throw new Error(`stream ended before frame ${k}`);
}

function crop(img: RgbImage, x: number, y: number, w: number, h: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let r = 0; r < h; r++) data.set(img.data.subarray(((y + r) * img.width + x) * 3, ((y + r) * img.width + x + w) * 3), r * w * 3);
  return { width: w, height: h, data };
}

/** The window with the most detail (sum of absolute green-channel gradients): where resampling shows. */
export function busiestWindow(img: RgbImage, w: number, h: number, step = 8): { x: number; y: number } {
  const { width, height, data } = img;
  const grad = new Float64Array(width * height);
  for (let y = 0; y < height - 1; y++) {
    for (let x = 0; x < width - 1; x++) {
      const i = (y * width + x) * 3 + 1;
      grad[y * width + x] = Math.abs(data[i] - data[i + 3]) + Math.abs(data[i] - data[i + width * 3]);
    }
  }
  let best = { x: 0, y: 0 };
  let bestSum = -1;
  for (let y = 0; y + h <= height; y += step) {
    for (let x = 0; x + w <= width; x += step) {
      let s = 0;
      for (let r = y; r < y + h; r++) for (let c = x; c < x + w; c++) s += grad[r * width + c];
      if (s > bestSum) {
        bestSum = s;
        best = { x, y };
      }
    }
  }
  return best;
}

/** The display frame `k` of one pipeline's rendition, at the source size, as packed RGB. */
async function displayFrame(p: Pipeline, mp4: string, k: number, src: Size, lr: Size): Promise<Uint8Array> {
  if (p.kind === 'ffmpeg') return nth(readFrames(mp4, { width: src.width, height: src.height, filter: p.upFilter(src, lr) }), k);
  return nth(p.upscale(readFrames(mp4, { width: lr.width, height: lr.height }), lr, src), k);
}

/** Before/after crops of the middle frame at about one bitrate, as PNGs, with their PSNR/SSIM. */
/**
 * The bitrate to compare crops at: the geometric middle of the range every pipeline covers (or of
 * all points when the ranges do not overlap), so each pipeline has a rendition close to it.
 */
export function cropTarget(points: { pipeline: string; bitrate_kbps: number }[]): number {
  const ids = [...new Set(points.map((p) => p.pipeline))];
  const ranges = ids.map((id) => {
    const r = points.filter((p) => p.pipeline === id).map((p) => p.bitrate_kbps);
    return [Math.min(...r), Math.max(...r)];
  });
  let lo = Math.max(...ranges.map((r) => r[0]));
  let hi = Math.min(...ranges.map((r) => r[1]));
  if (!(hi >= lo)) {
    lo = Math.min(...ranges.map((r) => r[0]));
    hi = Math.max(...ranges.map((r) => r[1]));
  }
  return Math.sqrt(lo * hi);
}

/** Each pipeline's rendition nearest to `target` on a log scale. */
export function nearestRenditions<T extends { pipeline: string; bitrate_kbps: number; crf: number }>(points: T[], target: number): Record<string, T> {
  const out: Record<string, T> = {};
  for (const p of points) {
    const cur = out[p.pipeline];
    if (!cur || Math.abs(Math.log(p.bitrate_kbps / target)) < Math.abs(Math.log(cur.bitrate_kbps / target))) out[p.pipeline] = p;
  }
  return out;
}

export async function makeCrops(o: {
  src: SourceInfo;
  pipelines: Pipeline[];
  lrs: Map<string, Size>;
  targetKbps: number;
  renditions: Record<string, { crf: number; bitrate_kbps: number }>;
  streamDir: string;
  outDir: string;
}): Promise<CropReport> {
  await mkdir(o.outDir, { recursive: true });
  const k = Math.floor(o.src.frames / 2);
  const w = Math.min(160, o.src.width);
  const h = Math.min(160, o.src.height);
  const source: RgbImage = { width: o.src.width, height: o.src.height, data: await nth(readFrames(o.src.path, { width: o.src.width, height: o.src.height }), k) };
  const { x, y } = busiestWindow(source, w, h);
  const ref = crop(source, x, y, w, h);
  const files: Record<string, string> = { source: 'crops/source.png' };
  await writePng(join(o.outDir, 'source.png'), ref);
  const psnr: Record<string, number> = {};
  const ssim: Record<string, number> = {};
  for (const p of o.pipelines) {
    const mp4 = join(o.streamDir, `${p.id}_crf${o.renditions[p.id].crf}.mp4`);
    const frame = await displayFrame(p, mp4, k, o.src, o.lrs.get(p.id)!);
    const c = crop({ width: o.src.width, height: o.src.height, data: frame }, x, y, w, h);
    await writePng(join(o.outDir, `${p.id}.png`), c);
    files[p.id] = `crops/${p.id}.png`;
    psnr[p.id] = psnrY(ref.data, c.data, w, h);
    ssim[p.id] = ssimY(ref.data, c.data, w, h);
  }
  return { target_kbps: o.targetKbps, renditions: o.renditions, frame: k, x, y, width: w, height: h, files, psnr_y: psnr, ssim_y: ssim };
}
