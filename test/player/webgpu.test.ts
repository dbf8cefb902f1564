/**
 * The player on onnxruntime-web's WebGPU backend in headless Chromium, through SwiftShader
 * (software Vulkan: about 20 s per 320x180 frame on 2 cores, so one paused frame is checked).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing } from '../helpers/browser.js';
import { captureLrFrame, PlayerHarness } from './harness.js';

const missing = chromiumMissing();
if (missing) console.warn(`skipping player WebGPU test: ${missing}`);

describe.skipIf(!!missing)('HcdUpscaler in headless Chromium (WebGPU)', () => {
  const h = new PlayerHarness();
  beforeAll(() => h.start({ webgpu: true }));
  afterAll(() => h.close());

  it('WebGPU (SwiftShader): the canvas matches Node-side upscaling (PSNR >= 45 dB)', async (ctx) => {
    const { page, errors } = await h.openPage();
    const adapter = await page.evaluate(async () => {
      const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
      return !!gpu && !!(await gpu.requestAdapter());
    });
    if (!adapter) {
      console.warn('skipping WebGPU check: Chromium offers no WebGPU adapter here (SwiftShader/Vulkan missing)');
      ctx.skip();
    }
    const cap = await captureLrFrame(page, 'webgpu', 0.3, 240_000);
    const stats = await page.evaluate(() => (window as unknown as { up: { stats: { backend: string } } }).up.stats);
    expect(stats.backend).toBe('webgpu');
    const m = await h.bestMatch(cap);
    console.log(`webgpu: mediaTime ${cap.mediaTime.toFixed(3)} -> frame ${m.frame} (~${m.expected} by time), PSNR ${m.db.toFixed(2)} dB, next best ${m.runnerUp.toFixed(2)} dB`);
    expect(m.db).toBeGreaterThanOrEqual(45);
    expect(m.runnerUp).toBeLessThan(40);
    expect(errors).toEqual([]);
  }, 300_000);
});
