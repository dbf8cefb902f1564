import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { HcdError } from '../../shared/errors.js';
import { modelsDir, resolvePair, type RescalingPair } from './index.js';
import { PairNetwork } from './network.js';

export type { RescalingPair };

/** hcd-x2 once it has been trained into models/, else the pretrained RDN pair. */
export function defaultModelId(): string {
  return existsSync(join(modelsDir(), 'hcd-x2', 'manifest.json')) ? 'hcd-x2' : 'rdn-x2';
}

/** A pair from the registry, any failure turned into one line naming the model. */
export async function loadPair(idOrPath: string): Promise<RescalingPair> {
  try {
    return await resolvePair(idOrPath);
  } catch (e) {
    if (e instanceof HcdError) throw e;
    throw new HcdError(`cannot load model '${idOrPath}': ${(e as Error).message.split('\n')[0]}`);
  }
}

/**
 * Runs the downscaler once on a small frame and checks that it really divides the size by the
 * manifest's scale, so a mislabelled pair is refused before anything is written.
 */
export async function checkPairScale(pair: RescalingPair): Promise<void> {
  const s = pair.manifest.scale;
  if (!Number.isInteger(s) || s < 2) throw new HcdError(`unsupported scale ${s} in model '${pair.manifest.id}'`);
  const side = 2 * s * Math.max(pair.manifest.minLrSize, 8);
  const down = await PairNetwork.down(pair, { threads: 1 });
  try {
    await down.runPlanar({ data: new Float32Array(3 * side * side).fill(0.5), width: side, height: side });
  } catch (e) {
    if (e instanceof HcdError) throw e;
    throw new HcdError(`model '${pair.manifest.id}': its downscaler does not run: ${(e as Error).message.split('\n')[0]}`);
  } finally {
    await down.close();
  }
}
