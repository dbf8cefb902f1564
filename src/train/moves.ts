/**
 * Synthetic camera motion over a still: the training sequences a recurrent upscaler learns time
 * from where no video is free to train on. A window of the still moves by a pan, a zoom and a
 * small rotation per frame, each frame the mean of sub-frame samples across half the frame
 * interval (a 180° shutter), so that fast moves blur as a camera's do.
 */
import { deriveSeed, Rng } from '../shared/rng.js';
import type { TrainImage } from './data.js';

/** A camera move: per-frame pan (HR pixels), zoom (factor) and rotation (radians). */
export interface CameraMove {
  dx: number;
  dy: number;
  zoom: number;
  turn: number;
}

/** How wild the moves are: pans up to `pan` px a frame, zooms up to `zoom` a frame, turns up to `turn` rad a frame. */
export const MOVE_LIMITS = { pan: 6, zoom: 0.01, turn: 0.004, shutterSamples: 4 } as const;

/** A random move within MOVE_LIMITS (half of them without zoom or turn: plain pans are the common case). */
export function randomMove(rng: Rng): CameraMove {
  const u = () => 2 * rng.next() - 1;
  const plain = rng.next() < 0.5;
  return { dx: u() * MOVE_LIMITS.pan, dy: u() * MOVE_LIMITS.pan, zoom: plain ? 0 : u() * MOVE_LIMITS.zoom, turn: plain ? 0 : u() * MOVE_LIMITS.turn };
}

/** The still's value at (x, y), bilinear, edges clamped. */
function sample(img: TrainImage, c: number, x: number, y: number): number {
  const { width: w, height: h, data } = img;
  const cx = Math.min(w - 1, Math.max(0, x));
  const cy = Math.min(h - 1, Math.max(0, y));
  const x0 = Math.min(w - 2, Math.floor(cx));
  const y0 = Math.min(h - 2, Math.floor(cy));
  const fx = cx - x0;
  const fy = cy - y0;
  const p = c * w * h + y0 * w + x0;
  const top = data[p] * (1 - fx) + data[p + 1] * fx;
  const bottom = data[p + w] * (1 - fx) + data[p + w + 1] * fx;
  return top * (1 - fy) + bottom * fy;
}

/** Where the move has the camera at time t (frames): centre, scale (still pixels per frame pixel), angle. */
function pose(img: TrainImage, m: CameraMove, t: number) {
  return { x: img.width / 2 + m.dx * t, y: img.height / 2 + m.dy * t, scale: 1 / (1 + m.zoom * t), angle: m.turn * t };
}

/**
 * `frames` packed RGB8 frames of `size`, the camera moving by `m` over `img`, starting centred.
 * The move is centred in time so the window stays near the middle of the still.
 */
export function cameraFrames(img: TrainImage, m: CameraMove, frames: number, size: { width: number; height: number }, samples: number = MOVE_LIMITS.shutterSamples): Uint8Array[] {
  const { width: w, height: h } = size;
  const out: Uint8Array[] = [];
  const t0 = -(frames - 1) / 2;
  for (let f = 0; f < frames; f++) {
    const data = new Uint8Array(w * h * 3);
    const acc = new Float32Array(w * h * 3);
    for (let k = 0; k < samples; k++) {
      const p = pose(img, m, t0 + f + (samples > 1 ? (0.5 * k) / (samples - 1) - 0.25 : 0));
      const cos = Math.cos(p.angle) * p.scale;
      const sin = Math.sin(p.angle) * p.scale;
      for (let y = 0; y < h; y++) {
        const v = y - (h - 1) / 2;
        for (let x = 0; x < w; x++) {
          const u = x - (w - 1) / 2;
          const sx = p.x + u * cos - v * sin;
          const sy = p.y + u * sin + v * cos;
          for (let c = 0; c < 3; c++) acc[(y * w + x) * 3 + c] += sample(img, c, sx, sy);
        }
      }
    }
    for (let i = 0; i < acc.length; i++) data[i] = Math.min(255, Math.max(0, Math.round((acc[i] / samples) * 255)));
    out.push(data);
  }
  return out;
}

/** A reproducible move per sequence index. */
export const moveFor = (seed: number, index: number): CameraMove => randomMove(new Rng(deriveSeed(seed, index, 1)));
