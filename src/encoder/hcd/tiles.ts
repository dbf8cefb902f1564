/**
 * Patch mode. The official my_train_patch.py optimizes each 128x128 LR window on its own, each
 * with its own perturbation ball, so the budget grows with the image instead of being spread
 * thinner. Here every tile also gets a halo of context (its neighbours' pixels) that is
 * optimized with it but thrown away, so that tile borders see the same surroundings the
 * client's upscaler will see, and the whole image is covered (the official script leaves the
 * last partial row and column of windows untouched).
 */
export interface Tile {
  index: number;
  /** The core this tile owns, in LR pixels. */
  x: number;
  y: number;
  w: number;
  h: number;
  /** The core plus halo, clipped to the image, in LR pixels. */
  px: number;
  py: number;
  pw: number;
  ph: number;
}

/** Splits `len` into runs of `size`; a last run shorter than size/2 joins the one before. */
function runs(len: number, size: number): [number, number][] {
  if (size <= 0 || size >= len) return [[0, len]];
  const out: [number, number][] = [];
  for (let s = 0; s < len; s += size) out.push([s, Math.min(size, len - s)]);
  const last = out[out.length - 1];
  if (out.length > 1 && last[1] < size / 2) {
    out.pop();
    out[out.length - 1][1] += last[1];
  }
  return out;
}

/** Tiles covering a `width` x `height` LR image; `size` 0 means one tile for the whole image. */
export function makeTiles(width: number, height: number, size: number, halo: number): Tile[] {
  const tiles: Tile[] = [];
  for (const [y, h] of runs(height, size)) {
    for (const [x, w] of runs(width, size)) {
      const px = Math.max(0, x - halo);
      const py = Math.max(0, y - halo);
      const pw = Math.min(width, x + w + halo) - px;
      const ph = Math.min(height, y + h + halo) - py;
      tiles.push({ index: tiles.length, x, y, w, h, px, py, pw, ph });
    }
  }
  return tiles;
}

/** Copies a window of a planar 3-channel image into `out` (3 x h x w). */
export function cropPlanar(src: Float32Array, width: number, height: number, x: number, y: number, w: number, h: number, out = new Float32Array(3 * w * h)): Float32Array {
  for (let c = 0; c < 3; c++) {
    for (let r = 0; r < h; r++) {
      const from = c * width * height + (y + r) * width + x;
      out.set(src.subarray(from, from + w), c * w * h + r * w);
    }
  }
  return out;
}

/** Writes the window (sx, sy, w, h) of a planar tile (tw wide, th high) into the image at (dx, dy). */
export function pastePlanar(
  tile: Float32Array,
  tw: number,
  th: number,
  sx: number,
  sy: number,
  w: number,
  h: number,
  dst: Float32Array,
  width: number,
  height: number,
  dx: number,
  dy: number,
): void {
  for (let c = 0; c < 3; c++) {
    for (let r = 0; r < h; r++) {
      const from = c * tw * th + (sy + r) * tw + sx;
      dst.set(tile.subarray(from, from + w), c * width * height + (dy + r) * width + dx);
    }
  }
}
