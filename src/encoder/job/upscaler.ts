import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifest, UpscalerManifest } from '../../shared/manifest.js';
import { encodeModel } from '../graph/proto.js';
import { receptiveRadius } from '../pairs/index.js';
import { writeAtomic } from '../media/files.js';
import type { RescalingPair } from '../pairs/load.js';

export const UPSCALER_DIR = 'upscaler';
export const UPSCALER_MANIFEST = `${UPSCALER_DIR}/manifest.json`;

/**
 * Copies the pair's canonical upscaler (0-1 in and out) and its manifest next to the renditions,
 * so OUTDIR is all a static server needs. Names come from the graph itself, not the source
 * network's manifest entry, since the canonical wrapper may rename them.
 */
export function writeUpscaler(outdir: string, pair: RescalingPair): UpscalerManifest {
  const dir = join(outdir, UPSCALER_DIR);
  mkdirSync(dir, { recursive: true });
  const graph = pair.upscaler.graph;
  // measured from the graph, so the player's tiles overlap exactly as much as the network looks
  let radius: number | undefined;
  try {
    radius = receptiveRadius(pair.upscaler);
  } catch {
    radius = undefined; // an op the analysis does not know: the manifest's default applies
  }
  const manifest = parseManifest(
    UpscalerManifest,
    {
      id: pair.manifest.id,
      scale: pair.manifest.scale,
      model: 'model.onnx',
      input: graph?.input?.[0]?.name ?? 'x',
      output: graph?.output?.[0]?.name ?? 'y',
      range: '0-1',
      colour: 'bt709-limited',
      params: pair.manifest.upscaler.params,
      macsPerPixel: pair.manifest.upscaler.macsPerPixel,
      ...(typeof radius === 'number' ? { receptiveRadius: radius } : {}),
    },
    'upscaler manifest',
  );
  writeAtomic(join(dir, 'model.onnx'), encodeModel(pair.upscaler));
  writeAtomic(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
