import { createHash } from 'node:crypto';
import { encodeModel } from '../graph/proto.js';
import type { RescalingPair } from '../pairs/load.js';

/** sha256 of a pair's manifest and networks: a worker with another copy of the model refuses the job. */
export function pairHash(pair: RescalingPair): string {
  const h = createHash('sha256').update(JSON.stringify(pair.manifest));
  for (const m of [pair.downscaler, pair.upscaler, pair.stillUpscaler]) if (m) h.update(encodeModel(m));
  return h.digest('hex');
}
