/**
 * Upscaling a large frame in overlapping tiles. Each tile is cut with at least `radius` extra LR
 * pixels of context on every side that has a neighbour, run through the network, and only its
 * core is kept: as long as `radius` covers the network's receptive field, every kept output pixel
 * saw exactly the input it would have seen in one whole-frame run, so no seams show.
 * Pure code (no DOM, no onnxruntime): the player and the Node tests share it.
 */

export interface Tile {
  /** The core, in LR pixels: the part of the frame this tile is responsible for. */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** The window fed to the network: the core plus context, inside the frame. */
  px0: number;
  py0: number;
  px1: number;
  py1: number;
}

/**
 * Tiles of at most `tile` x `tile` LR pixels of core, covering a width x height frame. All windows
 * have the same size: at the frame's edges a window is shifted inwards (more context on the inner
 * side) rather than clipped, so the network sees one input shape per frame size and a session with
 * fixed shapes serves every tile.
 */
export function planTiles(width: number, height: number, tile: number, radius: number): Tile[] {
  if (!(tile > 0)) throw new Error(`tile size must be positive, got ${tile}`);
  const tiles: Tile[] = [];
  // equal-sized cores; the last one in a row or column may be shorter
  const nx = Math.ceil(width / tile);
  const ny = Math.ceil(height / tile);
  const tw = Math.ceil(width / nx);
  const th = Math.ceil(height / ny);
  const pw = Math.min(width, tw + 2 * radius);
  const ph = Math.min(height, th + 2 * radius);
  const clamp = (v: number, hi: number) => Math.max(0, Math.min(v, hi));
  for (let y0 = 0; y0 < height; y0 += th) {
    for (let x0 = 0; x0 < width; x0 += tw) {
      const px0 = clamp(x0 - radius, width - pw);
      const py0 = clamp(y0 - radius, height - ph);
      tiles.push({ x0, y0, x1: Math.min(x0 + tw, width), y1: Math.min(y0 + th, height), px0, py0, px1: px0 + pw, py1: py0 + ph });
    }
  }
  return tiles;
}

/** Runs the network on a planar 1x3xHxW tensor and returns its 1x3x(H*s)x(W*s) output. */
export type RunFn = (input: Float32Array, width: number, height: number) => Promise<Float32Array>;

/** Copies a rectangle of a planar 3-channel tensor into a new (or reused) tensor. */
export function cropPlanar(src: Float32Array, width: number, height: number, x0: number, y0: number, x1: number, y1: number, out?: Float32Array): Float32Array {
  const w = x1 - x0;
  const h = y1 - y0;
  const n = width * height;
  const m = w * h;
  const dst = out && out.length >= 3 * m ? out : new Float32Array(3 * m);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++) {
      const s = c * n + (y0 + y) * width + x0;
      dst.set(src.subarray(s, s + w), c * m + y * w);
    }
  return dst;
}

/**
 * Upscales `input` (planar, width x height) by `scale` into `out` (planar, width*s x height*s),
 * tile by tile. With one tile covering the frame this is a plain whole-frame run.
 */
export async function runTiled(
  input: Float32Array,
  width: number,
  height: number,
  scale: number,
  tiles: Tile[],
  run: RunFn,
  out: Float32Array,
): Promise<Float32Array> {
  const W = width * scale;
  const N = W * height * scale;
  if (out.length < 3 * N) throw new Error(`runTiled: output holds ${out.length} values, needs ${3 * N}`);
  if (tiles.length === 1 && tiles[0].px0 === 0 && tiles[0].py0 === 0 && tiles[0].px1 === width && tiles[0].py1 === height) {
    const res = await run(input, width, height);
    out.set(res.subarray(0, 3 * N));
    return out;
  }
  let scratch: Float32Array | undefined;
  for (const t of tiles) {
    const pw = t.px1 - t.px0;
    const ph = t.py1 - t.py0;
    scratch = cropPlanar(input, width, height, t.px0, t.py0, t.px1, t.py1, scratch);
    const res = await run(scratch.subarray(0, 3 * pw * ph), pw, ph);
    const ow = pw * scale;
    const om = ow * ph * scale;
    // the core's place inside the tile's output, and inside the frame's
    const cx = (t.x0 - t.px0) * scale;
    const cy = (t.y0 - t.py0) * scale;
    const cw = (t.x1 - t.x0) * scale;
    const chh = (t.y1 - t.y0) * scale;
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < chh; y++) {
        const s = c * om + (cy + y) * ow + cx;
        out.set(res.subarray(s, s + cw), c * N + (t.y0 * scale + y) * W + t.x0 * scale);
      }
  }
  return out;
}

/** One tile's network output and where its kept core lies, in output pixels. */
export interface TileOutput<T> {
  out: T;
  /** The output's size (the tile's window times the scale). */
  width: number;
  height: number;
  /** The core's corner inside the output, and in the frame; its size. */
  srcX: number;
  srcY: number;
  dstX: number;
  dstY: number;
  w: number;
  h: number;
}

/**
 * Runs every tile (the whole frame when there is one) and returns the outputs as they are, with
 * where each core goes: for outputs that are stitched elsewhere (the WebGPU draw does it on the GPU).
 */
export async function runTiles<T>(
  input: Float32Array,
  width: number,
  height: number,
  scale: number,
  tiles: Tile[],
  run: (input: Float32Array, width: number, height: number) => Promise<T>,
): Promise<TileOutput<T>[]> {
  const res: TileOutput<T>[] = [];
  let scratch: Float32Array | undefined;
  for (const t of tiles) {
    const pw = t.px1 - t.px0;
    const ph = t.py1 - t.py0;
    let x = input;
    if (pw !== width || ph !== height) x = (scratch = cropPlanar(input, width, height, t.px0, t.py0, t.px1, t.py1, scratch)).subarray(0, 3 * pw * ph);
    const out = await run(x, pw, ph);
    res.push({
      out,
      width: pw * scale,
      height: ph * scale,
      srcX: (t.x0 - t.px0) * scale,
      srcY: (t.y0 - t.py0) * scale,
      dstX: t.x0 * scale,
      dstY: t.y0 * scale,
      w: (t.x1 - t.x0) * scale,
      h: (t.y1 - t.y0) * scale,
    });
  }
  return res;
}
