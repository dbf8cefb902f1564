/**
 * A trained U on a decoded frame sequence, in order, as a player runs it: a recurrent U gets its
 * own previous output, and starts again from zeros wherever the caller resets it (segment
 * starts, seeks, level switches).
 */
import { createSession, ort } from '../encoder/graph/session.js';
import { imageToTensor, tensorToImage, type RgbImage } from '../shared/image.js';
import { streamUpscalerModel } from './export.js';
import type { PairArch } from './nets.js';
import type { Params } from './params.js';

export class SequenceUpscaler {
  private state: ort.Tensor | undefined;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly scale: number,
    readonly recurrent: boolean,
  ) {}

  static async create(p: Params, arch: PairArch, recurrent: boolean, threads?: number): Promise<SequenceUpscaler> {
    return new SequenceUpscaler(await createSession(streamUpscalerModel(p, arch, recurrent), { threads }), arch.scale, recurrent);
  }

  /** The next frame's output, 8-bit as a canvas shows it; `reset` starts from no previous output. */
  async run(img: RgbImage, reset: boolean): Promise<RgbImage> {
    const W = img.width * this.scale;
    const H = img.height * this.scale;
    const feeds: Record<string, ort.Tensor> = { x: new ort.Tensor('float32', imageToTensor(img), [1, 3, img.height, img.width]) };
    if (this.recurrent) {
      const same = this.state && this.state.dims[2] === H && this.state.dims[3] === W;
      feeds.prev = !reset && same ? this.state! : new ort.Tensor('float32', new Float32Array(3 * W * H), [1, 3, H, W]);
    }
    const r = await this.session.run(feeds);
    if (this.recurrent) this.state = r.state;
    return tensorToImage(r.y.data as Float32Array, W, H);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
