import { quantize8, type Planar } from '../../shared/image.js';
import type { SessionOptions } from '../graph/session.js';
import { PairNetwork } from './network.js';
import type { PairModels } from './types.js';

/** A pair run forward only (no gradients): Q(D(x)) and U(y). Used for the bicubic baseline. */
export class PlainPair {
  private constructor(
    readonly scale: number,
    private readonly down: PairNetwork,
    private readonly up: PairNetwork,
  ) {}

  /** U gets the LR as a lossless RGB image, so it is the pair's still upscaler where it has one. */
  static async create(pair: PairModels, opts: Pick<SessionOptions, 'threads' | 'ep'> = {}): Promise<PlainPair> {
    return new PlainPair(pair.manifest.scale, await PairNetwork.down(pair, opts), await PairNetwork.up(pair, 'rgb', opts));
  }

  async downscale(hr: Planar): Promise<Planar> {
    const y = await this.down.runPlanar(hr);
    quantize8(y.data);
    return y;
  }

  upscale(lr: Planar): Promise<Planar> {
    return this.up.runPlanar(lr);
  }

  async close(): Promise<void> {
    await Promise.all([this.down.close(), this.up.close()]);
  }
}
