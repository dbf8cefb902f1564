import type { TrainImage } from '../../src/train/data.js';
import type { PairArch } from '../../src/train/nets.js';

/** A tiny pair so that tests run in seconds. */
export const TINY: PairArch = { scale: 2, upChannels: 4, upHidden: 1, downChannels: 8, downHidden: 1 };

/** A synthetic photo-like image: smooth shading, oriented stripes, a few hard edges. */
export function genImage(w: number, h: number, seed = 0): TrainImage {
  const n = w * h;
  const data = new Float32Array(3 * n);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const stripes = 0.25 * Math.sin((x * 0.9 + y * 0.4) * 0.4 + seed);
      const edge = (x + 2 * y + seed * 7) % 37 < 18 ? 0.15 : -0.15;
      const shade = 0.3 * (x / w) + 0.2 * (y / h);
      for (let c = 0; c < 3; c++) data[c * n + i] = Math.min(1, Math.max(0, 0.35 + shade + (c === 1 ? stripes : 0.6 * stripes) + (c === 2 ? -edge : edge)));
    }
  return { name: `gen${seed}`, width: w, height: h, data };
}

/** Flat-coloured rectangles with hard edges: bicubic blurs them, a learned pair can do better. */
export function genBlocks(w: number, h: number, seed = 0): TrainImage {
  const n = w * h;
  const data = new Float32Array(3 * n).fill(0.5);
  let s = seed * 7919 + 17;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let k = 0; k < 40; k++) {
    const x0 = Math.floor(rnd() * w);
    const y0 = Math.floor(rnd() * h);
    const rw = 3 + Math.floor(rnd() * 20);
    const rh = 3 + Math.floor(rnd() * 20);
    const col = [rnd(), rnd(), rnd()];
    for (let y = y0; y < Math.min(h, y0 + rh); y++) for (let x = x0; x < Math.min(w, x0 + rw); x++) for (let c = 0; c < 3; c++) data[c * n + y * w + x] = col[c];
  }
  return { name: `blocks${seed}`, width: w, height: h, data };
}
