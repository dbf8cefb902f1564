import { HcdError } from '../../shared/errors.js';
import { imageToTensor, tensorToImage, type Planar, type RgbImage } from '../../shared/image.js';
import { createSession, ort, type SessionOptions } from '../graph/session.js';
import { extraFeeds, type ExtraInput } from './feeds.js';
import { upscalerFor, type LrKind, type PairModels } from './types.js';

/** Which of a pair's networks, as the manifest's extra inputs name them. */
export type PairNet = 'downscaler' | 'upscaler';

/** The canonical networks' I/O (see RescalingPair); extra inputs keep their manifest names. */
const IO = { input: 'x', output: 'y' } as const;

/**
 * D or U of a pair on one onnxruntime-node session, run forward. The one place that feeds a
 * pair's extra inputs and checks that the output has the size the pair's scale promises.
 */
export class PairNetwork {
  readonly scale: number;
  readonly extraInputs: readonly ExtraInput[];

  private constructor(
    private readonly pair: PairModels,
    readonly net: PairNet,
    private readonly session: ort.InferenceSession,
  ) {
    this.scale = pair.manifest.scale;
    this.extraInputs = pair.manifest.extraInputs.filter((e) => e.network === net);
  }

  static async down(pair: PairModels, opts: SessionOptions = {}): Promise<PairNetwork> {
    return new PairNetwork(pair, 'downscaler', await createSession(pair.downscaler, opts));
  }

  /** U for an LR of this kind: decoded video gets the streamed upscaler, a lossless RGB LR the still one where the pair has it. */
  static async up(pair: PairModels, lr: LrKind, opts: SessionOptions = {}): Promise<PairNetwork> {
    return new PairNetwork(pair, 'upscaler', await createSession(upscalerFor(pair, lr), opts));
  }

  /**
   * Planar 0-1 in, planar out as the network gives it (neither rounded nor clamped). `index` is
   * the frame number: it seeds 'gaussian' extra inputs.
   */
  async runPlanar(x: Planar, index = 0): Promise<Planar> {
    const y = await this.forward(x.data, x.width, x.height, index);
    const out = { data: (y.data as Float32Array).slice(), width: y.dims[3], height: y.dims[2] };
    y.dispose();
    return out;
  }

  /** 8-bit in, 8-bit out: the output rounded and clamped as a rendition stores it or a canvas shows it. */
  async runRgb(img: RgbImage, index = 0): Promise<RgbImage> {
    const y = await this.forward(imageToTensor(img), img.width, img.height, index);
    const out = tensorToImage(y.data as Float32Array, y.dims[3], y.dims[2]);
    y.dispose();
    return out;
  }

  async close(): Promise<void> {
    await this.session.release();
  }

  private async forward(data: Float32Array, w: number, h: number, index: number): Promise<ort.Tensor> {
    const s = this.scale;
    const down = this.net === 'downscaler';
    if (down && (w % s || h % s)) throw new HcdError(`frame ${w}x${h} is not divisible by the model's scale ${s}`);
    const feeds = { [IO.input]: new ort.Tensor('float32', data, [1, 3, h, w]), ...extraFeeds(this.extraInputs, w, h, index) };
    const y = (await this.session.run(feeds))[IO.output];
    const [, c, oh, ow] = y.dims;
    const [ew, eh] = down ? [w / s, h / s] : [w * s, h * s];
    const id = this.pair.manifest.id;
    if (ow !== ew || oh !== eh) {
      throw new HcdError(`model '${id}' claims scale ${s} but its ${this.net} turns ${w}x${h} into ${ow}x${oh}, not ${ew}x${eh} (mismatched scale)`);
    }
    if (c !== 3) throw new HcdError(`model '${id}': its ${this.net} gives ${c} channels, not 3 (RGB)`);
    return y;
  }
}
