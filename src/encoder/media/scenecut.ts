import type { RgbImage } from '../../shared/image.js';
import { BT709 } from '../../shared/yuv.js';

const { KR, KG, KB } = BT709;

/**
 * A cheap scene-cut test: the mean absolute luma difference on a sparse grid. Rescalers that
 * carry state between frames (HCD's warm start) drop it at a cut, where the previous frame is
 * no help. The threshold is in 8-bit levels.
 */
export class SceneCutDetector {
  private prev: Float32Array | undefined;
  constructor(private readonly threshold = 30, private readonly step = 8) {}

  private luma(img: RgbImage): Float32Array {
    const { width, height, data } = img;
    const out: number[] = [];
    for (let y = 0; y < height; y += this.step)
      for (let x = 0; x < width; x += this.step) {
        const i = (y * width + x) * 3;
        out.push(KR * data[i] + KG * data[i + 1] + KB * data[i + 2]);
      }
    return Float32Array.from(out);
  }

  /** True for the first frame after reset() and at every cut. */
  next(img: RgbImage): boolean {
    const l = this.luma(img);
    const p = this.prev;
    this.prev = l;
    if (!p || p.length !== l.length) return true;
    let sum = 0;
    for (let i = 0; i < l.length; i++) sum += Math.abs(l[i] - p[i]);
    return sum / l.length > this.threshold;
  }

  reset(): void {
    this.prev = undefined;
  }
}
