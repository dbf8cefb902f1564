import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HcdError } from '../../shared/errors.js';
import { bicubicPair } from './builtin.js';
import { isDir, loadPairFolder } from './folder.js';
import { rdnPair } from './rdn.js';
import type { RescalingPair } from './types.js';

export type { RescalingPair } from './types.js';
export { savePair } from './folder.js';
export { modelStats } from './stats.js';
export { graphProblems } from './ops.js';
export { receptiveRadius } from './receptive.js';

/** The repository's models/ folder (own trained pairs, and cache/ for converted ones); HCD_MODELS_DIR overrides it. */
export function modelsDir(): string {
  return process.env.HCD_MODELS_DIR ? resolve(process.env.HCD_MODELS_DIR) : fileURLToPath(new URL('../../../models/', import.meta.url));
}

const BUILTIN: Record<string, () => Promise<RescalingPair>> = {
  'bicubic-x2': async () => bicubicPair(2),
  'bicubic-x4': async () => bicubicPair(4),
  'rdn-x2': () => rdnPair(2, modelsDir()),
  'rdn-x4': () => rdnPair(4, modelsDir()),
};

export function builtinPairIds(): string[] {
  return Object.keys(BUILTIN);
}

function looksLikePath(s: string): boolean {
  return s.includes('/') || s.includes('\\') || s.startsWith('.');
}

/**
 * A pair by built-in id ('bicubic-x2', 'rdn-x4', ...), by the id of a folder under models/
 * ('hcd-x2' -> models/hcd-x2/), or by a path to a pair folder.
 */
export async function resolvePair(idOrPath: string): Promise<RescalingPair> {
  const builtin = BUILTIN[idOrPath];
  if (builtin) return builtin();
  if (looksLikePath(idOrPath) || (await isDir(idOrPath))) return loadPairFolder(idOrPath);
  const own = join(modelsDir(), idOrPath);
  if (/^[a-z0-9][a-z0-9._-]*$/.test(idOrPath) && (await isDir(own))) return loadPairFolder(own);
  throw new HcdError(
    `unknown pair '${idOrPath}': not a built-in (${builtinPairIds().join(', ')}), not a folder under ${modelsDir()}, not a path to a pair folder`,
  );
}
