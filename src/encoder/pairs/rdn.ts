import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { HcdError } from '../../shared/errors.js';
import { convertLayersModel } from './tfjs/convert.js';
import { readLayersModel } from './tfjs/model.js';
import { bicubicDownModel } from './bicubic.js';
import { networkInfo, pairManifest } from './builtin.js';
import { canonicalize } from './canonical.js';
import { isDir, loadPairFolder, savePair } from './folder.js';
import type { RescalingPair } from './types.js';

/** Bump when the converter's output changes, so cached conversions are redone. */
const CONVERTER_VERSION = 3;

/**
 * Which bicubic the downscaler uses, per scale: the one the pretrained upscaler reconstructs
 * best, measured on Set5 (bench/pairs.ts; see docs/pairs.md). The x2 model evidently saw
 * non-antialiased LR in training (34.10 dB vs 33.53 dB from MATLAB's antialiased LR), the x4
 * model antialiased LR (28.60 dB vs 27.01 dB).
 */
const RDN_DOWN_ANTIALIAS: Record<number, boolean> = { 2: false, 4: true };
const PACKAGE = '@upscalerjs/esrgan-slim';

/** The esrgan-slim package folder (its exports map hides package.json, so walk up from main). */
export function esrganSlimDir(): string {
  let main: string;
  try {
    main = createRequire(import.meta.url).resolve(PACKAGE);
  } catch {
    throw new HcdError(`npm package ${PACKAGE} is not installed (npm ci)`);
  }
  let dir = dirname(main);
  while (dir !== dirname(dir)) {
    if (existsSync(join(dir, 'models')) && existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new HcdError(`cannot find the models folder of ${PACKAGE}`);
}

async function sourceHash(modelJson: string): Promise<string> {
  const h = createHash('sha256');
  const text = await readFile(modelJson);
  h.update(text);
  const paths = (JSON.parse(text.toString('utf8')) as { weightsManifest: { paths: string[] }[] }).weightsManifest.flatMap((g) => g.paths);
  for (const p of paths) h.update(await readFile(join(dirname(modelJson), p)));
  h.update(`converter-v${CONVERTER_VERSION}`);
  return h.digest('hex').slice(0, 16);
}

/** Converts the esrgan-slim RDN for `scale` and pairs it with the bicubic downscaler. */
export async function convertRdnPair(scale: number, modelJson: string, hash: string): Promise<RescalingPair> {
  const id = `rdn-x${scale}`;
  const layers = await readLayersModel(modelJson);
  const native = convertLayersModel(layers, { name: `esrgan_slim_rdn_x${scale}` });
  const input = native.graph?.input?.[0]?.name ?? '';
  const output = native.graph?.output?.[0]?.name ?? '';
  // the RDN works in 0-255 and overshoots: wrap to 0-1 and clamp, as the player shows it directly
  const upscaler = canonicalize(native, { input, output, range: '0-255', clamp: true, inDims: ['h', 'w'], outDims: ['H', 'W'] });
  const antialias = RDN_DOWN_ANTIALIAS[scale] ?? true;
  const downscaler = bicubicDownModel(scale, { antialias });
  return {
    id,
    downscaler,
    upscaler,
    manifest: pairManifest({
      id,
      description: `${antialias ? 'Antialiased' : 'Non-antialiased'} bicubic x${scale} down + pretrained RDN up (${PACKAGE}, DIV2K), converted from TF.js`,
      scale,
      downscaler: networkInfo(downscaler, 'downscaler', scale),
      upscaler: networkInfo(upscaler, 'upscaler', scale, { clampsOutput: true }),
      minLrSize: 8,
      provenance: {
        upscaler: `${PACKAGE}@1.0.0 models/x${scale} (RDN C1 D2 G4 G0=64 T10, DIV2K; MIT licence, idealo/image-super-resolution lineage)`,
        nativeRange: '0-255',
        converter: `src/encoder/pairs/tfjs v${CONVERTER_VERSION}`,
        sourceHash: hash,
        downscaler: antialias
          ? 'fixed MATLAB-style antialiased bicubic (src/encoder/pairs/bicubic.ts)'
          : 'fixed TF-style non-antialiased bicubic (src/encoder/pairs/bicubic.ts): the x2 RDN reconstructs it best',
      },
    }),
  };
}

/**
 * The RDN pair, converted at first use and cached as a pair folder under models/cache/. A cache
 * whose source hash differs (package or converter changed) is converted again.
 */
export async function rdnPair(scale: number, modelsRoot: string): Promise<RescalingPair> {
  const modelJson = join(esrganSlimDir(), 'models', `x${scale}`, 'model.json');
  if (!existsSync(modelJson)) throw new HcdError(`${modelJson} is missing; reinstall ${PACKAGE}`);
  const hash = await sourceHash(modelJson);
  const cache = join(modelsRoot, 'cache', `rdn-x${scale}`);
  if (await isDir(cache)) {
    try {
      const cached = await loadPairFolder(cache);
      if (cached.manifest.provenance.sourceHash === hash) return { ...cached, dir: undefined };
    } catch {
      // a broken cache is simply rebuilt
    }
  }
  const pair = await convertRdnPair(scale, modelJson, hash);
  try {
    await savePair(pair, cache);
  } catch (e) {
    // another process may be writing the same cache at the same moment; the pair is fine anyway
    await new Promise((r) => setTimeout(r, 200));
    if (!(await isDir(cache))) throw e;
  }
  return pair;
}
