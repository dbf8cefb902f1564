import { HcdError } from '../../shared/errors.js';
import { imageToTensor, tensorToImage, type RgbImage } from '../../shared/image.js';
import { createSession, ort, type ExecutionProvider } from '../graph/session.js';
import type { RescalingPair } from './load.js';

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
  /** Selects HCD (iterations of the HR and LR stages); absent or 0,0 means the pair's plain downscaler. */
  hcd?: { hrIters: number; lrIters: number };
}

/** A seeded normal generator so that 'gaussian' extra inputs give the same frames on every run. */
function gaussian(n: number, seed: number): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(next()));
    const t = 2 * Math.PI * next();
    out[i] = r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

/** No HCD: the pair's canonical downscaler, clipped and rounded to 8 bits as the LR rendition stores it. */
export class PairRescaler implements FrameRescaler {
  readonly scale: number;
  private constructor(
    private readonly pair: RescalingPair,
    private readonly session: ort.InferenceSession,
  ) {
    this.scale = pair.manifest.scale;
  }

  static async create(pair: RescalingPair, opts: RescalerOptions = {}): Promise<PairRescaler> {
    const session = await createSession(pair.downscaler, { ep: opts.ep, threads: opts.threads, onWarning: opts.onWarning });
    return new PairRescaler(pair, session);
  }

  async process(frame: RgbImage, ctx: RescaleContext): Promise<RgbImage> {
    const s = this.scale;
    const { width: w, height: h } = frame;
    if (w % s || h % s) throw new HcdError(`frame ${w}x${h} is not divisible by the model's scale ${s}`);
    const feeds: Record<string, ort.Tensor> = {
      [this.pair.manifest.downscaler.input]: new ort.Tensor('float32', imageToTensor(frame), [1, 3, h, w]),
    };
    for (const x of this.pair.manifest.extraInputs.filter((e) => e.network === 'downscaler')) {
      const n = x.channels * h * w;
      feeds[x.name] = new ort.Tensor('float32', x.fill === 'zeros' ? new Float32Array(n) : gaussian(n, ctx.index + 1), [1, x.channels, h, w]);
    }
    const out = await this.session.run(feeds);
    const y = out[this.pair.manifest.downscaler.output];
    const [, c, oh, ow] = y.dims;
    if (c !== 3 || oh * s !== h || ow * s !== w) {
      throw new HcdError(
        `model '${this.pair.manifest.id}' turned a ${w}x${h} frame into ${ow}x${oh}, not the ${w / s}x${h / s} its scale ${s} promises (mismatched scale)`,
      );
    }
    // tensorToImage rounds and clamps: the 8-bit LR frame exactly as x264 will receive it
    return tensorToImage(y.data as Float32Array, ow, oh);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
