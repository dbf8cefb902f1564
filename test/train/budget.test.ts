import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { graphProblems, modelStats, modelsDir, resolvePair } from '../../src/encoder/pairs/index.js';

for (const [id, scale] of [
  ['hcd-x2', 2],
  ['hcd-x4', 4],
] as const) {
  const shipped = join(modelsDir(), id);
  const has = existsSync(join(shipped, 'manifest.json'));
  describe(`shipped ${id} pair`, () => {
    it.skipIf(!has)('upscaler fits the browser budget: ≤ 10K params, ≤ 10 GMAC per 1080p output frame', async () => {
      const pair = await resolvePair(id);
      expect(pair.manifest.scale).toBe(scale);
      // counted from the ONNX graph itself, not taken from the manifest; the still upscaler (lossless
      // RGB LR) is held to the same budget as the one the player runs
      const ups = [
        [pair.upscaler, pair.manifest.upscaler],
        ...(pair.stillUpscaler && pair.manifest.stillUpscaler ? [[pair.stillUpscaler, pair.manifest.stillUpscaler] as const] : []),
      ] as const;
      expect(!pair.stillUpscaler).toBe(!pair.manifest.stillUpscaler);
      const d = modelStats(pair.downscaler, [1080, 1920]);
      for (const [u, info] of ups) {
        const { params, macs } = modelStats(u, [1080 / scale, 1920 / scale]);
        expect(params).toBeGreaterThan(1000);
        expect(params).toBeLessThanOrEqual(10_000);
        expect(macs).toBeLessThanOrEqual(10e9);
        expect(info.params).toBe(params);
        // D is the server's: 10-50x larger than U
        expect(d.params / params).toBeGreaterThanOrEqual(10);
        expect(d.params / params).toBeLessThanOrEqual(50);
        expect(graphProblems(u)).toEqual([]);
      }
      expect(graphProblems(pair.downscaler)).toEqual([]);
      const files = ['manifest.json', pair.manifest.downscaler.file, pair.manifest.upscaler.file, ...(pair.manifest.stillUpscaler ? [pair.manifest.stillUpscaler.file] : [])];
      const sizes = await Promise.all(files.map(async (f) => (await stat(join(shipped, f))).size));
      // the whole pair, every file of it, under 2 MB
      expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThan(2e6);
    });
    it.runIf(!has)(`skipped: models/${id} does not exist yet (train it with hcd train, see docs/models.md)`, () => {
      expect(has).toBe(false);
    });
  });
}
