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
      // counted from the ONNX graph itself, not taken from the manifest
      const { params, macs } = modelStats(pair.upscaler, [1080 / scale, 1920 / scale]);
      expect(params).toBeGreaterThan(1000);
      expect(params).toBeLessThanOrEqual(10_000);
      expect(macs).toBeLessThanOrEqual(10e9);
      expect(pair.manifest.upscaler.params).toBe(params);
      // D is the server's: 10-50x larger than U
      const d = modelStats(pair.downscaler, [1080, 1920]);
      expect(d.params / params).toBeGreaterThanOrEqual(10);
      expect(d.params / params).toBeLessThanOrEqual(50);
      expect(graphProblems(pair.upscaler)).toEqual([]);
      expect(graphProblems(pair.downscaler)).toEqual([]);
      for (const f of ['manifest.json', 'downscaler.onnx', 'upscaler.onnx']) expect((await stat(join(shipped, f))).size).toBeLessThan(2e6);
    });
    it.runIf(!has)(`skipped: models/${id} does not exist yet (train it with hcd train, see docs/models.md)`, () => {
      expect(has).toBe(false);
    });
  });
}
