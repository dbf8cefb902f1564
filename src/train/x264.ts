import type { RgbImage } from '../shared/image.js';
import { GraphBuilder } from '../encoder/graph/builder.js';
import { createSession, ort } from '../encoder/graph/session.js';
import { buildLrModel } from './graph.js';
import { addUpscaler, type PairArch } from './nets.js';
import type { Params } from './params.js';
import { realX264 } from './proxycheck.js';

/**
 * The real codec in the training loop (`hcd train --codec x264`). A step's 8-bit LR crops are
 * tiled into one picture, coded by x264 as one intra frame through the encoder's own BT.709 4:2:0
 * conversion, and cut apart again: one ffmpeg round trip per step instead of one per crop. The
 * objective adds `decoded - S(q)` as a constant input, so the forward pass sees exactly what the
 * player decodes while the gradient passes straight through the codec (S, the 4:2:0 stage, keeps
 * its own gradient).
 *
 * Crops are whole 16x16 macroblocks when their side is a multiple of 16, so x264 codes each on its
 * own blocks; only intra prediction and the deblocking filter look across a tile's edge.
 */
export interface Mosaic {
  cols: number;
  rows: number;
}

export function mosaicLayout(n: number): Mosaic {
  const cols = Math.ceil(Math.sqrt(n));
  return { cols, rows: Math.ceil(n / cols) };
}

/** Calls `f(i, j)` for every value of every crop: i its planar [N,3,h,w] index, j its packed RGB index in the tiled picture. */
function forEachTiled(n: number, h: number, w: number, f: (i: number, j: number) => void): void {
  const { cols } = mosaicLayout(n);
  const width = cols * w;
  for (let b = 0; b < n; b++) {
    const ox = (b % cols) * w;
    const oy = Math.floor(b / cols) * h;
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) f(((b * 3 + c) * h + y) * w + x, ((oy + y) * width + ox + x) * 3 + c);
  }
}

/** Tiles planar [N,3,h,w] 0-1 crops into one 8-bit RGB picture; unused cells are mid-grey. */
export function tileCrops(q: Float32Array, n: number, h: number, w: number): RgbImage {
  const { cols, rows } = mosaicLayout(n);
  const data = new Uint8Array(cols * w * rows * h * 3).fill(128);
  forEachTiled(n, h, w, (i, j) => (data[j] = Math.round(Math.min(1, Math.max(0, q[i])) * 255)));
  return { width: cols * w, height: rows * h, data };
}

/** The inverse of tileCrops: planar [N,3,h,w] 0-1 crops cut from a tiled picture. */
export function untileCrops(img: RgbImage, n: number, h: number, w: number): Float32Array {
  const out = new Float32Array(n * 3 * h * w);
  forEachTiled(n, h, w, (i, j) => (out[i] = img.data[j] / 255));
  return out;
}

/**
 * `decoded - sub` for each crop, where decoded is x264's output for the 8-bit crops `q` at `crf`
 * and `sub` what the graph computes before the codec; zero for crops marked lossless.
 */
export async function x264Residual(q: Float32Array, sub: Float32Array, n: number, h: number, w: number, crf: number, lossless: boolean[]): Promise<Float32Array> {
  const res = new Float32Array(q.length);
  if (lossless.every(Boolean)) return res;
  const { img } = await realX264(tileCrops(q, n, h, w), crf);
  const decoded = untileCrops(img, n, h, w);
  const per = 3 * h * w;
  for (let b = 0; b < n; b++) {
    if (lossless[b]) continue;
    for (let i = b * per; i < (b + 1) * per; i++) res[i] = decoded[i] - sub[i];
  }
  return res;
}

/**
 * Held-out PSNR as streamed: U(x264(Q(D(x)))) against x, each crop coded at `crf` (all in one
 * tiled picture, as in training), U's output rounded to 8 bits. RGB, 0-1.
 */
export async function validateX264(params: Params, arch: PairArch, crops: Float32Array[], p: number, crf: number, threads?: number): Promise<number> {
  const h = p / arch.scale;
  const n = crops.length;
  const x = new Float32Array(n * 3 * p * p);
  crops.forEach((c, k) => x.set(c, k * 3 * p * p));
  const lrSess = await createSession(buildLrModel(params, arch), { threads });
  const q = (await lrSess.run({ x: new ort.Tensor('float32', x, [n, 3, p, p]) })).q.data as Float32Array;
  await lrSess.release();
  const decoded = untileCrops((await realX264(tileCrops(q, n, h, h), crf)).img, n, h, h);
  const g = new GraphBuilder('hcd_val_up');
  const up = addUpscaler(g, params, arch, g.input('lr', ['N', 3, h, h]));
  g.op('Clip', [up, g.constF([0], [], 'zero'), g.constF([1], [], 'one')], {}, 'y');
  g.output('y');
  const upSess = await createSession(g.toModel(), { threads });
  const y = (await upSess.run({ lr: new ort.Tensor('float32', decoded, [n, 3, h, h]) })).y.data as Float32Array;
  await upSess.release();
  let se = 0;
  for (let i = 0; i < y.length; i++) {
    const d = Math.round(y[i] * 255) / 255 - x[i];
    se += d * d;
  }
  return 10 * Math.log10(1 / Math.max(se / y.length, 1e-12));
}
