import { HcdError } from '../../shared/errors.js';
import { HcdRescaler, type HcdRescalerOptions } from './rescaler.js';
import { hcdActive, type HcdIters } from './options.js';
import { PairRescaler, type FrameRescaler } from '../pairs/runtime.js';
import type { RescalingPair } from '../pairs/load.js';

type Factory = (pair: RescalingPair, opts: HcdRescalerOptions) => Promise<FrameRescaler>;

/** Every way the encoder can turn an HR frame into an LR frame. */
const RESCALERS: Record<'plain' | 'hcd', Factory> = {
  plain: (pair, opts) => PairRescaler.create(pair, opts),
  hcd: (pair, opts) => HcdRescaler.create(pair, opts),
};

/** HCD when `hcdIters` asks for any iteration, else the pair's plain downscaler. */
export async function createRescaler(pair: RescalingPair, opts: Omit<HcdRescalerOptions, 'iters'> & { hcdIters?: HcdIters } = {}): Promise<FrameRescaler> {
  const { hcdIters, ...rest } = opts;
  const kind = hcdActive(hcdIters) ? 'hcd' : 'plain';
  const r = await RESCALERS[kind](pair, kind === 'hcd' ? { ...rest, iters: hcdIters } : rest);
  if (r.scale !== pair.manifest.scale) {
    await r.close();
    throw new HcdError(`rescaler scale ${r.scale} does not match model scale ${pair.manifest.scale} (mismatched scale)`);
  }
  return r;
}
