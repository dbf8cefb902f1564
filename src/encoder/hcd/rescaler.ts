import { HcdError } from '../../shared/errors.js';
import { imageToTensor, tensorToImage, type RgbImage } from '../../shared/image.js';
import type { FrameRescaler, RescaleContext, RescalerOptions } from '../pairs/runtime.js';
import { Hcd, type WarmState } from './hcd.js';
import type { HcdPair } from './nets.js';
import { VIDEO_HCD_OPTIONS, type HcdIters, type HcdOptions } from './options.js';

export interface HcdRescalerOptions extends RescalerOptions {
  /** Iterations of the HR and LR stages for the first frame of a scene (and every frame without warmIters). */
  iters?: HcdIters;
  /** Everything else of the method (eps, alpha, rule, tile, seed...). */
  hcdOptions?: Partial<HcdOptions>;
  /** Iterations for frames after the first of a scene, which start from the previous frame's perturbation. */
  warmIters?: HcdIters;
}

/**
 * HCD for video frames. Consecutive frames of a scene are nearly the same picture, so each
 * frame's perturbations start from the previous frame's instead of a random point and need
 * fewer iterations; at a scene cut (and the first frame of a chunk) the state is dropped.
 */
export class HcdRescaler implements FrameRescaler {
  private warm: WarmState = { hr: new Map(), lr: new Map() };
  private warmSize = '';
  /** Last frame's result summary, for logs and tests (lrPsnr is NaN: the plain LR is not made). */
  last?: { lrPsnr: number; hrLoss: number[]; lrLoss: number[]; warm: boolean; seconds: number };

  private constructor(
    private readonly hcd: Hcd,
    private readonly warmIters?: HcdIters,
  ) {}

  get scale(): number {
    return this.hcd.scale;
  }

  static async create(pair: HcdPair, opts: HcdRescalerOptions = {}): Promise<HcdRescaler> {
    // the encoder's `threads` is the total for this rescaler: split it between the lanes
    const o = { ...VIDEO_HCD_OPTIONS, ...opts.hcdOptions };
    const lanes = o.lanes ?? 1;
    const threads = o.threads ?? (opts.threads ? Math.max(1, Math.floor(opts.threads / lanes)) : undefined);
    const hcd = await Hcd.create(
      pair,
      { ...o, iters: opts.iters ?? opts.hcdOptions?.iters, lanes, threads },
      opts.ep,
    );
    return new HcdRescaler(hcd, opts.warmIters);
  }

  async process(frame: RgbImage, ctx: RescaleContext): Promise<RgbImage> {
    const s = this.scale;
    const { width: w, height: h } = frame;
    if (w % s || h % s) throw new HcdError(`frame ${w}x${h} is not divisible by the model's scale ${s}`);
    const size = `${w}x${h}`;
    const cold = ctx.sceneCut || size !== this.warmSize || this.warm.hr.size + this.warm.lr.size === 0;
    if (cold) this.warm = { hr: new Map(), lr: new Map() };
    this.warmSize = size;
    const r = await this.hcd.run(
      { data: imageToTensor(frame), width: w, height: h },
      { warm: this.warm, skipBase: true, ...(cold || !this.warmIters ? {} : { iters: this.warmIters }) },
    );
    this.last = { lrPsnr: r.lrPsnr, hrLoss: r.hr.losses, lrLoss: r.lrStage.losses, warm: !cold, seconds: r.seconds };
    return tensorToImage(r.lr.data, r.lr.width, r.lr.height);
  }

  async close(): Promise<void> {
    await this.hcd.close();
  }
}
