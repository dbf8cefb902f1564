/**
 * The player on WebGPU in headless Chromium, through SwiftShader (software Vulkan: seconds per
 * 320x180 frame on 2 cores, so one paused frame is checked per case): the player's own kernels,
 * whole and tiled, onnxruntime-web's WebGPU backend, the presenter alone, and a browser whose
 * WebGPU canvases cannot be drawn.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession } from '../../src/encoder/graph/session.js';
import { planarToPacked } from '../../src/shared/image.js';
import { chromiumMissing, launchChromium, ROOT } from '../helpers/browser.js';
import { captureAttached, captureLrFrame, HCD_X2, PlayerHarness } from './harness.js';

const missing = chromiumMissing();
if (missing) console.warn(`skipping player WebGPU test: ${missing}`);

type Events = { name: string; backend?: string; output?: string; outputProblem?: string }[];

const GPU_PAGE = `<!doctype html><html><head><meta charset="utf-8"></head><body><canvas id="c"></canvas>
<script type="module">
import { GpuPresenter, probeCanvasPath } from './gpu.js';
window.probe = () => probeCanvasPath();
// draws planar float tiles with GpuPresenter onto a 2D canvas and returns its RGBA bytes
window.gpuDraw = async (tiles, tw, th, parts, W, H) => {
  const device = await (await navigator.gpu.requestAdapter()).requestDevice();
  const p = await GpuPresenter.create(device, 255);
  const bufs = tiles.map((t) => {
    const b = device.createBuffer({ size: t.length * 4, usage: 0x80 | 0x08 });
    device.queue.writeBuffer(b, 0, new Float32Array(t));
    return b;
  });
  const c = document.getElementById('c');
  c.width = W;
  c.height = H;
  const ctx = c.getContext('2d');
  p.present(ctx, W, H, parts.map((q) => ({ ...q, out: bufs[q.tile], width: tw, height: th })));
  await p.done();
  const px = Array.from(ctx.getImageData(0, 0, W, H).data);
  p.destroy();
  device.destroy();
  return px;
};
window.ready = true;
</script></body></html>`;

/** Float32 values next to every 8-bit rounding boundary, then a spread, then specials. */
function hardValues(n: number): Float32Array {
  const v = new Float32Array(n);
  const step = new Int32Array(v.buffer);
  for (let i = 0; i < n; i++) {
    const k = i % 257;
    v[i] = Math.fround((k - 0.5) / 255);
    step[i] += ((i * 7) % 7) - 3; // -3..3 float steps around it
  }
  v.set([-0.2, 1.3, 0, 1, 0.5, 127.5 / 255], 0);
  return v;
}

describe.skipIf(!!missing)('HcdUpscaler in headless Chromium (WebGPU)', () => {
  const h = new PlayerHarness();
  let noCanvas: Browser | undefined;
  beforeAll(async () => {
    await h.start({ webgpu: true });
    mkdirSync(join(h.fx.dir, 'gpu'), { recursive: true });
    writeFileSync(join(h.fx.dir, 'gpu/index.html'), GPU_PAGE);
    await build({ entryPoints: [join(ROOT, 'src/player/gpu.ts')], bundle: true, format: 'esm', outfile: join(h.fx.dir, 'gpu/gpu.js'), logLevel: 'silent' });
  });
  afterAll(async () => {
    await noCanvas?.close();
    await h.close();
  });

  async function adapterOr(ctx: { skip(): void }, page: import('playwright-core').Page): Promise<void> {
    const adapter = await page.evaluate(async () => {
      const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
      return !!gpu && !!(await gpu.requestAdapter());
    });
    if (!adapter) {
      console.warn('skipping WebGPU check: Chromium offers no WebGPU adapter here (SwiftShader/Vulkan missing)');
      ctx.skip();
    }
  }

  // 'auto' runs the fixture's model on the player's own WebGPU kernels; 'onnxruntime-web' forces it
  for (const [runtime, name] of [['auto', 'kernels'], ['onnxruntime-web', 'onnxruntime-web']] as const) {
    it(`WebGPU (SwiftShader, ${name}): the output stays on the GPU, and the canvas matches Node-side upscaling (PSNR >= 45 dB)`, async (ctx) => {
      const { page, errors } = await h.openPage();
      await adapterOr(ctx, page);
      const from = h.server.requests.length;
      const cap = await captureLrFrame(page, 'webgpu', 0.3, 240_000, { runtime });
      const r = await page.evaluate(() => {
        const w = window as unknown as { up: { stats: { backend: string } }; events: Events };
        return { stats: w.up.stats, backendEvents: w.events.filter((e) => e.name === 'backend') };
      });
      expect(r.stats.backend).toBe('webgpu');
      expect(r.backendEvents).toEqual([{ name: 'backend', backend: 'webgpu', runtime: name, output: 'gpu-buffer' }]);
      const ortFiles = h.server.requests.slice(from).filter((p) => p.startsWith('/ort/'));
      if (name === 'kernels') expect(ortFiles).toEqual([]);
      // drawn by the render pass from the network's GPU buffer, by a session with fixed input
      // shapes; the canvas read back here is that drawing, copied onto the page's 2D canvas
      expect(cap).toMatchObject({ kind: 'neural', output: 'gpu-buffer', fixedShape: true, tiles: 1, width: 640, height: 360 });
      expect(['i420', 'nv12']).toContain(cap.colourPath); // the decoder's own planes either way
      const m = await h.bestMatch(cap);
      console.log(`webgpu (${name}): mediaTime ${cap.mediaTime.toFixed(3)} -> frame ${m.frame} (~${m.expected} by time), PSNR ${m.db.toFixed(2)} dB, next best ${m.runnerUp.toFixed(2)} dB`);
      expect(m.db).toBeGreaterThanOrEqual(45);
      expect(m.runnerUp).toBeLessThan(40);
      // destroy() releases the sessions and the presenter once idle, without errors in the page
      const after = await page.evaluate(async () => {
        const up = (window as unknown as { up: { destroy(): void; drawCount: number; idle: boolean } }).up;
        up.destroy();
        const draws = up.drawCount;
        await new Promise((r) => setTimeout(r, 500));
        return { idle: up.idle, drew: up.drawCount - draws };
      });
      expect(after).toEqual({ idle: true, drew: 0 });
      expect(errors).toEqual([]);
      await page.close();
    }, 300_000);
  }

  it('WebGPU (kernels) in overlapping tiles: the presenter stitches the cores, the canvas still matches Node', async (ctx) => {
    const { page, errors } = await h.openPage();
    await adapterOr(ctx, page);
    const cap = await captureLrFrame(page, 'webgpu', 0.2, 240_000, { tile: 100 }); // 320x180 LR -> 4x2 tiles
    expect(cap).toMatchObject({ kind: 'neural', output: 'gpu-buffer', fixedShape: true, tiles: 8, width: 640, height: 360 });
    const m = await h.bestMatch(cap);
    console.log(`webgpu (kernels) tiled: frame ${m.frame}, PSNR ${m.db.toFixed(2)} dB, next best ${m.runnerUp.toFixed(2)} dB`);
    expect(m.db).toBeGreaterThanOrEqual(45);
    expect(m.runnerUp).toBeLessThan(40);
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);

  it("WebGPU (kernels) with models/hcd-x2's upscaler: the canvas matches Node", async (ctx) => {
    const { page, errors } = await h.openPage();
    await adapterOr(ctx, page);
    const { cap, runtime } = await captureAttached(page, '/upscaler/hcd-x2.onnx', 'webgpu', 0.2, 240_000);
    expect(runtime).toBe('kernels');
    expect(cap).toMatchObject({ kind: 'neural', output: 'gpu-buffer', width: 640, height: 360 });
    const session = await createSession(readFileSync(HCD_X2), { threads: 1 });
    const m = await h.bestMatch(cap, session);
    await session.release();
    console.log(`webgpu (kernels) hcd-x2: frame ${m.frame}, PSNR ${m.db.toFixed(2)} dB, next best ${m.runnerUp.toFixed(2)} dB`);
    expect(m.db).toBeGreaterThanOrEqual(45);
    expect(m.runnerUp).toBeLessThan(m.db - 5);
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);

  it('the WebGPU draw stitches tiles and rounds to exactly the bytes of planarToPacked', async (ctx) => {
    const page = await h.browser.newPage();
    await page.goto(`${h.server.url}/gpu/index.html`);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    await adapterOr(ctx, page);
    expect(await page.evaluate(() => (window as unknown as { probe(): Promise<string | undefined> }).probe())).toBeUndefined();
    // a 24x12 frame from four 16x8 tile outputs, each giving a 12x6 core from an offset
    const [tw, th, W, H] = [16, 8, 24, 12];
    const tiles = [0, 1, 2, 3].map((k) => hardValues(3 * tw * th).map((v, i) => (i % 11 === k ? Math.sin(i + k) * 0.7 + 0.5 : v)));
    const parts = [
      { tile: 0, srcX: 0, srcY: 0, dstX: 0, dstY: 0, w: 12, h: 6 },
      { tile: 1, srcX: 4, srcY: 0, dstX: 12, dstY: 0, w: 12, h: 6 },
      { tile: 2, srcX: 0, srcY: 2, dstX: 0, dstY: 6, w: 12, h: 6 },
      { tile: 3, srcX: 4, srcY: 2, dstX: 12, dstY: 6, w: 12, h: 6 },
    ];
    const frame = new Float32Array(3 * W * H);
    for (const p of parts)
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < p.h; y++)
          for (let x = 0; x < p.w; x++) frame[c * W * H + (p.dstY + y) * W + p.dstX + x] = tiles[p.tile][c * tw * th + (p.srcY + y) * tw + p.srcX + x];
    const want = planarToPacked(frame, W, H, { channels: 4, scale: 255 });
    const got = await page.evaluate(
      (a) => (window as unknown as { gpuDraw(...x: unknown[]): Promise<number[]> }).gpuDraw(a.tiles, a.tw, a.th, a.parts, a.W, a.H),
      { tiles: tiles.map((t) => Array.from(t)), tw, th, parts, W, H },
    );
    let wrong = 0;
    for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) wrong++;
    expect(wrong).toBe(0);
    await page.close();
  }, 120_000);

  it('where a WebGPU canvas cannot be drawn, the player finds out first, downloads the output and still matches Node', async (ctx) => {
    // the compositor off SwiftShader's Vulkan: drawing a WebGPU canvas would lose every device of the page
    noCanvas = await launchChromium({ webgpu: true, webgpuCanvas: false });
    const { page, errors } = await h.openPage(noCanvas);
    await adapterOr(ctx, page);
    const cap = await captureLrFrame(page, 'webgpu', 0.05, 240_000);
    const events = await page.evaluate(() => (window as unknown as { events: Events }).events);
    const backend = events.find((e) => e.name === 'backend');
    // the own kernels' output, downloaded from their GPU buffer
    expect(backend).toMatchObject({ backend: 'webgpu', runtime: 'kernels', output: 'cpu', outputProblem: expect.stringMatching(/loses the GPU device/) });
    expect(events.some((e) => e.name === 'fallback')).toBe(false);
    expect(cap).toMatchObject({ kind: 'neural', output: 'cpu', fixedShape: true, width: 640, height: 360 });
    const m = await h.bestMatch(cap);
    console.log(`webgpu, outputs downloaded: frame ${m.frame}, PSNR ${m.db.toFixed(2)} dB, next best ${m.runnerUp.toFixed(2)} dB`);
    expect(m.db).toBeGreaterThanOrEqual(45);
    expect(m.runnerUp).toBeLessThan(40);
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);
});
