import type { RgbImage } from '../../shared/image.js';
import type { ExecutionProvider } from '../graph/session.js';
import type { RescalingPair } from './load.js';
import { PairNetwork } from './network.js';

export interface RescaleContext {
  /** Frame number in the whole video. */
  index: number;
  /**
   * True at a scene cut and at the first frame of every chunk: state carried between frames must
   * be dropped here, which is also what makes a resumed encode equal an uninterrupted one.
   */
  sceneCut: boolean;
}

export interface FrameRescaler {
  readonly scale: number;
  /** HR frame (packed RGB8, size divisible by scale) → LR frame (packed RGB8). `state` carries warm-start data between frames; reset at scene cuts. */
  process(frame: RgbImage, ctx: RescaleContext): Promise<RgbImage>;
  close(): Promise<void>;
}

export interface RescalerOptions {
  ep?: ExecutionProvider;
  threads?: number;
  onWarning?: (message: string) => void;
}

/** No HCD: the pair's canonical downscaler, clipped and rounded to 8 bits as the LR rendition stores it. */
export class PairRescaler implements FrameRescaler {
  readonly scale: number;
  private constructor(private readonly down: PairNetwork) {
    this.scale = down.scale;
  }

  static async create(pair: RescalingPair, opts: RescalerOptions = {}): Promise<PairRescaler> {
    return new PairRescaler(await PairNetwork.down(pair, { ep: opts.ep, threads: opts.threads, onWarning: opts.onWarning }));
  }

  process(frame: RgbImage, ctx: RescaleContext): Promise<RgbImage> {
    // rounded and clamped: the 8-bit LR frame exactly as x264 will receive it
    return this.down.runRgb(frame, ctx.index);
  }

  async close(): Promise<void> {
    await this.down.close();
  }
}
