import { createSession, ort, type ExecutionProvider } from '../graph/session.js';
import { quantize8 } from './compose.js';
import type { Planar } from './hcd.js';
import type { HcdPair } from './nets.js';
import { upscalerFor } from '../pairs/types.js';

/** A pair run forward only (no gradients): Q(D(x)) and U(y). Used for the bicubic baseline. */
export class PlainPair {
  private constructor(
    readonly scale: number,
    private readonly down: ort.InferenceSession,
    private readonly up: ort.InferenceSession,
  ) {}

  /** U gets the LR as a lossless RGB image, so it is the pair's still upscaler where it has one. */
  static async create(pair: HcdPair, opts: { threads?: number; ep?: ExecutionProvider } = {}): Promise<PlainPair> {
    return new PlainPair(pair.manifest.scale, await createSession(pair.downscaler, opts), await createSession(upscalerFor(pair, 'rgb'), opts));
  }

  private async run(s: ort.InferenceSession, p: Planar): Promise<Planar> {
    const inName = s.inputNames[0];
    const out = await s.run({ [inName]: new ort.Tensor('float32', p.data, [1, 3, p.height, p.width]) });
    const y = out[s.outputNames[0]];
    const r = { data: (y.data as Float32Array).slice(), width: y.dims[3], height: y.dims[2] };
    y.dispose();
    return r;
  }

  async downscale(hr: Planar): Promise<Planar> {
    const y = await this.run(this.down, hr);
    quantize8(y.data);
    return y;
  }

  upscale(lr: Planar): Promise<Planar> {
    return this.run(this.up, lr);
  }

  async close(): Promise<void> {
    await Promise.all([this.down.release(), this.up.release()]);
  }
}
