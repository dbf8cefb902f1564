/**
 * The player in headless Chromium (WASM): real hls.js playback of a contract-following HLS output,
 * upscaled by onnxruntime-web, compared pixel for pixel with the same frame upscaled in Node.
 * WebGPU is in webgpu.test.ts.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession } from '../../src/encoder/graph/session.js';
import { psnr } from '../../src/shared/metrics.js';
import { chromiumMissing } from '../helpers/browser.js';
import { captureAttached, captureLrFrame, HCD_X2, pngPixels, PlayerHarness } from './harness.js';

const missing = chromiumMissing();
if (missing) console.warn(`skipping player browser tests: ${missing}`);

describe.skipIf(!!missing)('HcdUpscaler in headless Chromium (WASM)', () => {
  const h = new PlayerHarness();
  beforeAll(() => h.start());
  afterAll(() => h.close());

  type Runtime = 'auto' | 'onnxruntime-web';
  /** The backend event, and the onnxruntime-web files the page requested since `from`. */
  async function ran(page: import('playwright-core').Page, from: number): Promise<{ runtime?: string; backend?: string; threads?: number; simd?: string; ortFiles: string[] }> {
    const events = await page.evaluate(() => (window as unknown as { events: { name: string; runtime?: string; backend?: string; threads?: number; simd?: string }[] }).events);
    const e = events.find((x) => x.name === 'backend');
    return { runtime: e?.runtime, backend: e?.backend, threads: e?.threads, simd: e?.simd, ortFiles: h.server.requests.slice(from).filter((p) => p.startsWith('/ort/')) };
  }
  // 'auto' runs the fixture's model (of the project's pattern) on the player's own WASM kernel and
  // never requests onnxruntime-web; 'onnxruntime-web' forces it
  const RUNTIMES: [Runtime, string][] = [['auto', 'kernels'], ['onnxruntime-web', 'onnxruntime-web']];

  for (const [runtime, name] of RUNTIMES) {
    it(`WASM (${name}): the canvas matches Node-side upscaling of the same decoded frame (PSNR >= 45 dB)`, async () => {
      const { page, errors } = await h.openPage();
      const from = h.server.requests.length;
      const cap = await captureLrFrame(page, 'wasm', 0.7, 60_000, { runtime });
      expect(cap.width).toBe(640);
      expect(cap.height).toBe(360);
      expect(cap.colourPath).toBe('i420');
      expect(cap.tiles).toBe(1);
      // WASM outputs come back to the main thread; the session has this level's fixed input shape
      expect(cap).toMatchObject({ output: 'cpu', fixedShape: true });
      const r = await ran(page, from);
      // the page is cross-origin isolated: both runtimes use min(4, cores) threads
      const cores = await page.evaluate(() => navigator.hardwareConcurrency);
      expect(r).toMatchObject({ runtime: name, backend: 'wasm', threads: Math.min(4, cores) });
      // Chromium has relaxed SIMD: the kernel's fused multiply-add build runs by default
      if (name === 'kernels') expect(r).toMatchObject({ ortFiles: [], simd: 'relaxed' });
      else expect(r.ortFiles.length).toBeGreaterThan(0);
      const m = await h.bestMatch(cap);
      console.log(`wasm (${name}): mediaTime ${cap.mediaTime.toFixed(3)} -> frame ${m.frame} (~${m.expected} by time), PSNR ${m.db.toFixed(2)} dB, next best ${m.runnerUp.toFixed(2)} dB`);
      expect(m.db).toBeGreaterThanOrEqual(45);
      expect(m.runnerUp).toBeLessThan(40);
      // and the upscale is not just bilinear: a bilinear draw of the same frame is far from it
      const bilinear = await page.evaluate(() => {
        const v = document.querySelector('video')!;
        const c = document.createElement('canvas');
        c.width = 640;
        c.height = 360;
        c.getContext('2d')!.drawImage(v, 0, 0, 640, 360);
        return c.toDataURL('image/png');
      });
      const dbBilinear = psnr(pngPixels(bilinear).data, await h.nodeUpscale(m.frame), { width: 640, height: 360, channels: 4 });
      expect(dbBilinear).toBeLessThan(m.db - 10);
      const stats = await page.evaluate(() => (window as unknown as { up: { stats: object } }).up.stats);
      expect(stats).toMatchObject({ backend: 'wasm', level: 0 });
      expect(errors).toEqual([]);
      await page.close();
    });

    it(`WASM (${name}) in overlapping tiles: the canvas still equals the whole-frame upscale`, async () => {
      const { page, errors } = await h.openPage();
      const from = h.server.requests.length;
      const cap = await captureLrFrame(page, 'wasm', 0.4, 60_000, { tile: 100, runtime }); // 320x180 LR -> 4x2 tiles
      expect(cap.tiles).toBe(8);
      expect(cap.fixedShape).toBe(true); // the tiles' windows all have one size
      expect(await ran(page, from)).toMatchObject({ runtime: name, backend: 'wasm' });
      const m = await h.bestMatch(cap);
      console.log(`wasm (${name}) tiled: frame ${m.frame}, PSNR ${m.db.toFixed(2)} dB, next best ${m.runnerUp.toFixed(2)} dB`);
      expect(m.db).toBeGreaterThanOrEqual(45);
      expect(m.runnerUp).toBeLessThan(40);
      expect(errors).toEqual([]);
      await page.close();
    });
  }

  it('WASM (kernels, relaxedSimd: false): the plain SIMD build matches Node too', async () => {
    const { page, errors } = await h.openPage();
    const from = h.server.requests.length;
    const cap = await captureLrFrame(page, 'wasm', 0.7, 60_000, { runtime: 'auto', relaxedSimd: false });
    expect(await ran(page, from)).toMatchObject({ runtime: 'kernels', backend: 'wasm', simd: 'plain', ortFiles: [] });
    const m = await h.bestMatch(cap);
    console.log(`wasm (kernels, plain SIMD): frame ${m.frame}, PSNR ${m.db.toFixed(2)} dB, next best ${m.runnerUp.toFixed(2)} dB`);
    expect(m.db).toBeGreaterThanOrEqual(45);
    expect(m.runnerUp).toBeLessThan(40);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("WASM (kernels) with models/hcd-x2's upscaler (PRelu, reflect-padded bicubic residual, Clip): the canvas matches Node", async () => {
    const { page, errors } = await h.openPage();
    const { cap, runtime } = await captureAttached(page, '/upscaler/hcd-x2.onnx', 'wasm', 0.5, 60_000);
    expect(runtime).toBe('kernels');
    expect(cap).toMatchObject({ kind: 'neural', output: 'cpu', width: 640, height: 360 });
    const session = await createSession(readFileSync(HCD_X2), { threads: 1 });
    const m = await h.bestMatch(cap, session);
    await session.release();
    console.log(`wasm (kernels) hcd-x2: frame ${m.frame}, PSNR ${m.db.toFixed(2)} dB, next best ${m.runnerUp.toFixed(2)} dB`);
    expect(m.db).toBeGreaterThanOrEqual(45);
    expect(m.runnerUp).toBeLessThan(m.db - 5);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a missing model: playback continues bilinear, a fallback event says why, no page errors', async () => {
    const { page, errors } = await h.openPage();
    await page.evaluate(() => (window as unknown as { hcdStart(o: object): Promise<boolean> }).hcdStart({ src: '/master-404.m3u8', level: 0, backend: 'wasm' }));
    await page.waitForFunction(() => document.querySelector('video')!.currentTime > 0.5, undefined, { timeout: 60_000 });
    const r = await page.evaluate(() => {
      const w = window as unknown as { events: { name: string; reason?: string; to?: string }[]; up: { stats: { mode: string; backend: string }; lastDraw?: { kind: string } } };
      const c = document.querySelector('canvas')!;
      return { events: w.events, stats: w.up.stats, last: w.up.lastDraw, w: c.width, h: c.height };
    });
    const fb = r.events.find((e) => e.name === 'fallback');
    expect(fb?.to).toBe('bilinear');
    expect(fb?.reason).toMatch(/missing\.json.*404/);
    expect(r.stats).toMatchObject({ mode: 'bilinear', backend: 'none' });
    expect(r.last?.kind).toBe('bilinear');
    expect([r.w, r.h]).toEqual([640, 360]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("backend 'webgpu' where the browser has none: bilinear, and a fallback event naming WebGPU", async (ctx) => {
    const { page, errors } = await h.openPage();
    const adapter = await page.evaluate(async () => {
      const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
      return !!gpu && !!(await gpu.requestAdapter());
    });
    if (adapter) {
      console.warn('skipping: this Chromium (launched with --disable-gpu) still offers a WebGPU adapter');
      ctx.skip();
    }
    await page.evaluate(() => (window as unknown as { hcdStart(o: object): Promise<boolean> }).hcdStart({ src: '/master.m3u8', level: 0, backend: 'webgpu' }));
    await page.waitForFunction(() => (window as unknown as { events: { name: string }[] }).events.some((e) => e.name === 'fallback'), undefined, { timeout: 60_000 });
    await page.waitForFunction(() => document.querySelector('video')!.currentTime > 0.3, undefined, { timeout: 60_000 });
    const r = await page.evaluate(() => {
      const w = window as unknown as { events: { name: string; reason?: string; to?: string }[]; up: { stats: { mode: string; backend: string }; lastDraw?: { kind: string } } };
      return { events: w.events, stats: w.up.stats, last: w.up.lastDraw };
    });
    expect(r.events.find((e) => e.name === 'fallback')).toMatchObject({ to: 'bilinear', reason: expect.stringMatching(/WebGPU/) });
    expect(r.stats).toMatchObject({ backend: 'none', mode: 'bilinear' });
    expect(r.last?.kind).toBe('bilinear');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('an LR level made for another model is scaled bilinearly, not by the wrong network', async () => {
    const { page, errors } = await h.openPage();
    await page.evaluate(() => (window as unknown as { hcdStart(o: object): Promise<boolean> }).hcdStart({ src: '/master-other.m3u8', level: 0, backend: 'wasm' }));
    await page.waitForFunction(() => (window as unknown as { up: { stats: { backend: string } } }).up.stats.backend === 'wasm', undefined, { timeout: 60_000 });
    await page.waitForFunction(() => (window as unknown as { up: { drawCount: number } }).up.drawCount > 10, undefined, { timeout: 60_000 });
    const r = await page.evaluate(() => {
      const up = (window as unknown as { up: { stats: { mode: string; upscaledFrames: number }; lastDraw?: { kind: string; width: number } } }).up;
      return { stats: up.stats, lastDraw: up.lastDraw }; // stats is a getter: read it here
    });
    expect(r.stats.upscaledFrames).toBe(0);
    expect(r.stats.mode).toBe('bilinear');
    expect(r.lastDraw).toMatchObject({ kind: 'bilinear', width: 640 });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('three LR levels of one size: stats name the level playing, and only its own model upscales it', async () => {
    const { page, errors } = await h.openPage();
    await page.evaluate((src) => (window as unknown as { hcdStart(o: object): Promise<boolean> }).hcdStart({ src, level: 1, backend: 'wasm' }), h.fx.masterSameSize);
    const state = () =>
      page.evaluate(() => {
        const up = (window as unknown as { up: { stats: { level: number; upscaledFrames: number }; drawCount: number; lastDraw?: { kind: string; width: number } } }).up;
        return { level: up.stats.level, upscaled: up.stats.upscaledFrames, draws: up.drawCount, kind: up.lastDraw?.kind, width: up.lastDraw?.width };
      });
    // level 1 is made for the session's model
    await page.waitForFunction(() => (window as unknown as { up: { lastDraw?: { kind: string } } }).up.lastDraw?.kind === 'neural', undefined, { timeout: 60_000 });
    expect(await state()).toMatchObject({ level: 1, kind: 'neural', width: 640 });

    // level 2 has the same size but names another model: bilinear, reported as level 2
    await page.evaluate(async () => {
      (window as unknown as { hls: { currentLevel: number } }).hls.currentLevel = 2;
      const v = document.querySelector('video')!;
      if (v.paused) await v.play();
    });
    await page.waitForFunction(() => {
      const up = (window as unknown as { up: { stats: { level: number }; lastDraw?: { kind: string } } }).up;
      return up.stats.level === 2 && up.lastDraw?.kind === 'bilinear';
    }, undefined, { timeout: 60_000 });
    const at2 = await state();
    await page.waitForFunction((n) => (window as unknown as { up: { drawCount: number } }).up.drawCount > n + 10, at2.draws, { timeout: 60_000 });
    expect(await state()).toMatchObject({ level: 2, kind: 'bilinear', width: 640, upscaled: at2.upscaled });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('switching levels resizes the canvas; destroy() stops drawing and removes every listener', async () => {
    const { page, errors } = await h.openPage();
    await page.evaluate(() => (window as unknown as { hcdStart(o: object): Promise<boolean> }).hcdStart({ src: '/master.m3u8', level: 0, backend: 'wasm' }));
    // the player leaves hls.js's capping as the page set it (upscaledCapLevelController caps by the upscaled size)
    expect(await page.evaluate(() => (window as unknown as { hls: { capLevelToPlayerSize: boolean } }).hls.capLevelToPlayerSize)).toBe(true);
    const size = () => page.evaluate(() => {
      const w = window as unknown as { up: { stats: { mode: string; level: number } } };
      const c = document.querySelector('canvas')!;
      return { w: c.width, h: c.height, mode: w.up.stats.mode, level: w.up.stats.level };
    });
    await page.waitForFunction(() => document.querySelector('canvas')!.width === 640 && (window as unknown as { up: { lastDraw?: { kind: string } } }).up.lastDraw?.kind === 'neural', undefined, { timeout: 60_000 });
    expect(await size()).toMatchObject({ w: 640, h: 360, level: 0 });

    await page.evaluate(async () => {
      (window as unknown as { hls: { currentLevel: number } }).hls.currentLevel = 1; // the 480x270 source level, drawn as is
      const v = document.querySelector('video')!;
      if (v.paused) await v.play();
    });
    await page.waitForFunction(() => document.querySelector('canvas')!.width === 480, undefined, { timeout: 60_000 });
    expect(await size()).toMatchObject({ w: 480, h: 270, mode: 'passthrough', level: 1 });

    const before = await page.evaluate(() => {
      const w = window as unknown as { hlsListeners(): number[]; videoListeners(): number };
      return { hls: w.hlsListeners(), video: w.videoListeners() };
    });
    expect(before.hls).toEqual([1, 1]);
    expect(before.video).toBe(2);
    const after = await page.evaluate(async () => {
      const w = window as unknown as { up: { destroy(): void; drawCount: number }; hlsListeners(): number[]; videoListeners(): number };
      const v = document.querySelector('video')!;
      if (v.paused) await v.play();
      const drawing = w.up.drawCount;
      await new Promise((r) => setTimeout(r, 500));
      const drewBefore = w.up.drawCount - drawing;
      w.up.destroy();
      const draws = w.up.drawCount;
      // count the frames the video presents meanwhile with our own callback (the clip loops, so
      // currentTime is no measure)
      let presented = 0;
      const count = () => {
        presented++;
        v.requestVideoFrameCallback(count);
      };
      v.requestVideoFrameCallback(count);
      await new Promise((r) => setTimeout(r, 700));
      return { drewBefore, drewAfter: w.up.drawCount - draws, presented, hls: w.hlsListeners(), video: w.videoListeners() };
    });
    expect(after.presented).toBeGreaterThan(3); // frames kept coming ...
    expect(after.drewBefore).toBeGreaterThan(0);
    expect(after.drewAfter).toBe(0); // ... and none was drawn
    expect(after.hls).toEqual([0, 0]);
    expect(after.video).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('attach() on a plain <video>: a model too slow for real time degrades to alternate/bilinear and says so', async () => {
    const { page, errors } = await h.openPage();
    await page.evaluate((o) => (window as unknown as { hcdAttach(o: object): Promise<boolean> }).hcdAttach(o), { src: h.fx.lrUrl, modelUrl: h.fx.heavyManifest });
    await page.waitForFunction(() => {
      // (before the model is loaded the player draws bilinear too, with backend 'none')
      const w = window as unknown as { stats: { mode: string; backend: string }[] };
      return w.stats.some((s) => s.backend === 'wasm' && (s.mode === 'alternate' || s.mode === 'bilinear'));
    }, undefined, { timeout: 90_000 });
    const r = await page.evaluate(() => {
      const w = window as unknown as { up: { stats: { backend: string; upscaledFrames: number; mode: string }; drawCount: number; recentRunMs: number[] }; stats: { mode: string; backend: string }[] };
      const c = document.querySelector('canvas')!;
      const modes = w.stats.filter((s) => s.backend === 'wasm').map((s) => s.mode);
      return { stats: w.up.stats, draws: w.up.drawCount, runs: w.up.recentRunMs, modes, w: c.width, h: c.height };
    });
    console.log(`adaptive: modes ${[...new Set(r.modes)].join(' -> ')}, ${r.stats.upscaledFrames} upscaled of ${r.draws} drawn, runs ${r.runs.map((x) => x.toFixed(0)).join(', ')} ms`);
    expect(r.stats.backend).toBe('wasm');
    expect(r.modes[0]).toBe('neural');
    expect(['alternate', 'bilinear']).toContain(r.stats.mode);
    // degraded: frames keep being drawn (bilinear) between the network's runs
    expect(r.draws).toBeGreaterThan(r.stats.upscaledFrames);
    expect([r.w, r.h]).toEqual([640, 360]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
