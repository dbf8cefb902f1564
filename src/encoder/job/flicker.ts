import type { RgbImage } from '../../shared/image.js';
import { rgbToY601 } from '../../shared/metrics.js';
import type { ExecutionProvider } from '../graph/session.js';
import type { RescalingPair } from '../pairs/load.js';
import { PairNetwork } from '../pairs/network.js';

/** Temporal change per frame pair, 8-bit Y levels, over the frames of this run. */
export interface FlickerSummary {
  /** Mean absolute frame-to-frame change of the source's Y. */
  source: number;
  /** The same for U(LR frame) as the encoder made it (before x264). */
  output: number;
  /** output - source: above 0, the LR frames make the upscaled video busier than the source. */
  added: number;
  /** Frame pairs measured (pairs across a scene cut or a chunk start are skipped). */
  pairs: number;
}

/** Mean absolute difference of two planes of the same size. */
export function meanAbsDiff(a: Float64Array, b: Float64Array): number {
  let t = 0;
  for (let i = 0; i < a.length; i++) t += Math.abs(a[i] - b[i]);
  return t / a.length;
}

/**
 * HCD perturbs every frame on its own; this checks that it does not make the picture shimmer.
 * Each LR frame goes through the pair's upscaler, as a client would show it, and its temporal
 * change is compared with the source's. Measured before the codec, so it isolates what the
 * rescaler adds (bench/encode-quality.ts measures the decoded renditions).
 */
export class FlickerMeter {
  private prev?: { src: Float64Array; out: Float64Array };
  private sums = { source: 0, output: 0, pairs: 0 };

  private constructor(private readonly up: PairNetwork) {}

  /** Undefined when the upscaler needs extra inputs the player does not feed (then nothing is measured). */
  static async create(pair: RescalingPair, opts: { ep?: ExecutionProvider } = {}): Promise<FlickerMeter | undefined> {
    if (pair.manifest.extraInputs.some((e) => e.network === 'upscaler')) return undefined;
    return new FlickerMeter(await PairNetwork.up(pair, '420', { ep: opts.ep }));
  }

  async add(hr: RgbImage, lr: Uint8Array, cut: boolean): Promise<void> {
    const s = this.up.scale;
    const up = (await this.up.runRgb({ width: hr.width / s, height: hr.height / s, data: lr })).data;
    const cur = { src: rgbToY601(hr.data, hr.width, hr.height), out: rgbToY601(up, hr.width, hr.height) };
    if (this.prev && !cut) {
      this.sums.source += meanAbsDiff(cur.src, this.prev.src);
      this.sums.output += meanAbsDiff(cur.out, this.prev.out);
      this.sums.pairs++;
    }
    this.prev = cur;
  }

  summary(): FlickerSummary | undefined {
    const n = this.sums.pairs;
    if (n === 0) return undefined;
    const source = this.sums.source / n;
    const output = this.sums.output / n;
    return { source, output, added: output - source, pairs: n };
  }

  async close(): Promise<void> {
    await this.up.close();
  }
}
