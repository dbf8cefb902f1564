/**
 * The player as an hls.js component, in headless Chromium (WASM): made before or after
 * loadSource, a second loadSource (sessions counted), hls.js's DESTROYING, warm-up, events with
 * once/off, full screen, the cap-level controller, native-HLS attach() through the master
 * playlist, no onnxruntime-web file for the own kernels (only its WASM build when forced, without
 * WebGPU), and a user's model outside the project's own pattern (Resize + Sigmoid). The tests
 * that count sessions force onnxruntime-web.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder, attr, convAttrs } from '../../src/encoder/graph/builder.js';
import { encodeModel } from '../../src/encoder/graph/proto.js';
import { createSession, type ort } from '../../src/encoder/graph/session.js';
import { chromiumMissing } from '../helpers/browser.js';
import { PlayerHarness, type Capture } from './harness.js';

interface HlsInstance {
  on(event: string, fn: (...a: unknown[]) => void): void;
  once(event: string, fn: (...a: unknown[]) => void): void;
  attachMedia(v: HTMLVideoElement): void;
  loadSource(url: string): void;
  destroy(): void;
  currentLevel: number;
  autoLevelCapping: number;
}
interface Up {
  ready: Promise<void>;
  stats: { level: number; upscaledFrames: number; mode: string; backend: string };
  lastDraw?: { kind: string; width: number; mediaTime: number };
  drawCount: number;
  idle: boolean;
  on(e: string, fn: (e: string, d: unknown) => void): void;
  once(e: string, fn: (e: string, d: unknown) => void): void;
  off(e: string, fn?: (e: string, d: unknown) => void): void;
  destroy(): void;
  requestFullscreen(): Promise<void>;
}
interface PageWindow {
  Hls: { new (cfg?: object): HlsInstance; DefaultConfig: { capLevelController: unknown } };
  HcdUpscaler: { new (o: object): Up; attach(v: HTMLVideoElement, o: object): Up };
  Events: Record<string, string>;
  upscaledCapLevelController(base: unknown): unknown;
  ort: object;
  sessions: { created: number; live: number };
  video: HTMLVideoElement;
  canvas: HTMLCanvasElement;
  box: HTMLDivElement;
  hls: HlsInstance;
  up: Up;
  got: [string, unknown][];
  pageErrors: string[];
}

/**
 * hls.js, the player and onnxruntime-web's WASM build, imported by the page; the ort module
 * handed to the player counts the sessions it creates and releases.
 */
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><style>
#box { position: relative; width: 600px; height: 338px; background: #000; }
#box video, #box canvas { position: absolute; inset: 0; width: 100%; height: 100%; object-fit: contain; }
#box video { visibility: hidden; }
#box:fullscreen { width: 100vw; height: 100vh; }
</style></head><body>
<div id="box"><video id="v" muted playsinline loop></video><canvas id="c"></canvas></div>
<script type="module">
import Hls from '/hls/hls.mjs';
import * as ortWeb from '/ort/ort.wasm.min.mjs';
import { HcdUpscaler, Events, upscaledCapLevelController } from '/player/hcd-player.js';
const sessions = { created: 0, live: 0 };
const create = async (...args) => {
  const s = await ortWeb.InferenceSession.create(...args);
  sessions.created++;
  sessions.live++;
  const release = s.release.bind(s);
  let released = false;
  s.release = () => { if (!released) { released = true; sessions.live--; } return release(); };
  return s;
};
const ort = { ...ortWeb, InferenceSession: { create } };
window.pageErrors = [];
window.addEventListener('error', (e) => window.pageErrors.push(e.message));
Object.assign(window, { Hls, HcdUpscaler, Events, upscaledCapLevelController, ort, sessions, got: [],
  video: document.getElementById('v'), canvas: document.getElementById('c'), box: document.getElementById('box') });
window.ready = true;
</script></body></html>`;

/** x2 by Resize (bilinear) plus a Sigmoid-gated detail term: ops the project's own upscalers never use. */
function resizeSigmoidX2(): Uint8Array {
  const g = new GraphBuilder('resize-x2');
  g.input('image', [1, 3, 'H', 'W']);
  const scales = g.constF([1, 1, 2, 2], [4], 'scales');
  const up = g.op('Resize', ['image', '', scales], { mode: attr.string('linear'), coordinate_transformation_mode: attr.string('half_pixel') });
  const w = g.constF(Float32Array.from({ length: 3 * 3 * 3 * 3 }, (_, i) => Math.sin(i * 1.7) * 0.4), [3, 3, 3, 3], 'w');
  const gate = g.op('Sigmoid', [g.op('Conv', [up, w], convAttrs(3))]);
  const detail = g.op('Mul', [g.op('Sub', [gate, g.constF([0.5], [1], 'half')]), g.constF([0.25], [1], 'amp')]);
  g.op('Add', [up, detail], {}, 'upscaled');
  g.output('upscaled', [1, 3, 'H2', 'W2']);
  return encodeModel(g.toModel());
}

const missing = chromiumMissing();
if (missing) console.warn(`skipping player lifecycle tests: ${missing}`);

describe.skipIf(!!missing)('HcdUpscaler as an hls.js component (headless Chromium, WASM)', () => {
  const h = new PlayerHarness();
  let userSession: ort.InferenceSession;

  beforeAll(async () => {
    await h.start();
    const site = h.fx.dir;
    writeFileSync(join(site, 'lifecycle.html'), PAGE);
    const master = readFileSync(join(site, 'master.m3u8'), 'utf8');
    // the 480x270 level marked LR too: two LR sizes to warm up
    writeFileSync(join(site, 'master-two-lr.m3u8'), master.replace(/(RESOLUTION=480x270,[^\n]*)/, '$1,X-UPSCALE=2,X-HCD-MODEL="test-x2"'));
    // no variant is LR: a native-HLS player draws every frame as it is
    writeFileSync(join(site, 'master-plain.m3u8'), master.replace(/,X-UPSCALE=2,X-HCD-MODEL="test-x2"/, ''));
    const user = resizeSigmoidX2();
    writeFileSync(join(site, 'upscaler/resize-sigmoid.onnx'), user);
    userSession = await createSession(user, { threads: 1 });
  });
  afterAll(async () => {
    await userSession?.release();
    await h.close();
  });

  async function open(): Promise<Page> {
    const page = await h.browser.newPage();
    await page.goto(`${h.server.url}/lifecycle.html`);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    return page;
  }

  const neuralAt = (page: Page, width: number) =>
    page.waitForFunction((w) => {
      const up = (window as unknown as PageWindow).up;
      return up.lastDraw?.kind === 'neural' && up.lastDraw.width === w;
    }, width, { timeout: 60_000 });

  const sessions = (page: Page) => page.evaluate(() => ({ ...(window as unknown as PageWindow).sessions }));

  it('made after loadSource (the playlist already parsed) it still finds the upscaler and upscales', async () => {
    const page = await open();
    await page.evaluate(async () => {
      const w = window as unknown as PageWindow;
      w.hls = new w.Hls({ enableWorker: false, startLevel: 0 });
      w.hls.attachMedia(w.video);
      w.hls.loadSource('/master.m3u8');
      await new Promise((r) => w.hls.once('hlsManifestParsed', r));
      w.hls.currentLevel = 0;
      await w.video.play();
      await new Promise((r) => setTimeout(r, 300));
      w.up = new w.HcdUpscaler({ hls: w.hls, video: w.video, canvas: w.canvas, ort: w.ort, runtime: 'onnxruntime-web', backend: 'wasm', adaptive: false });
    });
    await neuralAt(page, 640);
    expect(await page.evaluate(() => (window as unknown as PageWindow).up.stats.level)).toBe(0);
    expect(await page.evaluate(() => (window as unknown as PageWindow).pageErrors)).toEqual([]);
    await page.close();
  });

  it('a second loadSource releases the first source\'s sessions (none leak); destroy() releases the rest', async () => {
    const page = await open();
    const load = (src: string, level: number) =>
      page.evaluate(
        async ([s, l]) => {
          const w = window as unknown as PageWindow;
          const upscaled = w.up.stats.upscaledFrames;
          w.hls.loadSource(s);
          await new Promise((r) => w.hls.once('hlsManifestParsed', r));
          w.hls.currentLevel = l;
          if (w.video.paused) await w.video.play();
          await w.up.ready;
          return upscaled;
        },
        [src, level] as const,
      );
    const upscaledSince = (n: number) =>
      page.waitForFunction((k) => (window as unknown as PageWindow).up.stats.upscaledFrames > k, n, { timeout: 60_000 });
    await page.evaluate(() => {
      const w = window as unknown as PageWindow;
      w.hls = new w.Hls({ enableWorker: false, startLevel: 0 });
      w.up = new w.HcdUpscaler({ hls: w.hls, video: w.video, canvas: w.canvas, ort: w.ort, runtime: 'onnxruntime-web', backend: 'wasm', adaptive: false });
      w.hls.attachMedia(w.video);
    });
    await upscaledSince(await load('/master.m3u8', 0));
    const first = await sessions(page);
    expect(first).toEqual({ created: 2, live: 2 }); // the base session and the fixed-shape one for 320x180
    // level 1 of master-same-size is the one made for the fixture's model
    await upscaledSince(await load('/master-same-size.m3u8', 1));
    await upscaledSince(await load('/master.m3u8', 0));
    // each source made its own sessions, and the old ones were released
    // no leak: once the third source plays, only its sessions are live; each source made its own
    // (the third's fixed-shape session may still be on its way, so at least one of its own)
    await page.waitForFunction((n) => (window as unknown as PageWindow).sessions.live <= n, first.live, { timeout: 30_000 });
    const after = await sessions(page);
    expect(after.live).toBeLessThanOrEqual(first.live);
    expect(after.created).toBeGreaterThan(2 * first.created);
    await page.evaluate(() => (window as unknown as PageWindow).up.destroy());
    await page.waitForFunction(() => (window as unknown as PageWindow).sessions.live === 0, undefined, { timeout: 30_000 });
    await page.close();
  });

  it('hls.destroy() (DESTROYING) tears the player down: no more draws, sessions released', async () => {
    const page = await open();
    await page.evaluate(async () => {
      const w = window as unknown as PageWindow;
      w.hls = new w.Hls({ enableWorker: false, startLevel: 0 });
      w.up = new w.HcdUpscaler({ hls: w.hls, video: w.video, canvas: w.canvas, ort: w.ort, runtime: 'onnxruntime-web', backend: 'wasm', adaptive: false });
      w.hls.attachMedia(w.video);
      w.hls.loadSource('/master.m3u8');
      await new Promise((r) => w.hls.once('hlsManifestParsed', r));
      w.hls.currentLevel = 0;
      await w.video.play();
    });
    await neuralAt(page, 640);
    const after = await page.evaluate(async () => {
      const w = window as unknown as PageWindow;
      w.hls.destroy();
      const draws = w.up.drawCount;
      // the video keeps its last frames and can be played on its own: nothing more is drawn
      w.video.src = '/lr.mp4';
      await w.video.play();
      await new Promise((r) => setTimeout(r, 800));
      return { drawn: w.up.drawCount - draws, time: w.video.currentTime };
    });
    expect(after.time).toBeGreaterThan(0.2);
    expect(after.drawn).toBe(0);
    await page.waitForFunction(() => (window as unknown as PageWindow).sessions.live === 0, undefined, { timeout: 30_000 });
    await page.close();
  });

  it('warm-up: every LR size has its session by the first upscaled frame, so a level switch creates none', async () => {
    const page = await open();
    await page.evaluate(async () => {
      const w = window as unknown as PageWindow;
      w.hls = new w.Hls({ enableWorker: false, startLevel: 0 });
      w.up = new w.HcdUpscaler({ hls: w.hls, video: w.video, canvas: w.canvas, ort: w.ort, runtime: 'onnxruntime-web', backend: 'wasm', adaptive: false });
      w.hls.attachMedia(w.video);
      w.hls.loadSource('/master-two-lr.m3u8');
      await new Promise((r) => w.hls.once('hlsManifestParsed', r));
      w.hls.currentLevel = 0;
      await w.up.ready;
    });
    await page.evaluate(() => (window as unknown as PageWindow).video.play());
    await neuralAt(page, 640);
    // the base session plus one fixed-shape session per LR size (320x180 and 480x270)
    expect(await sessions(page)).toEqual({ created: 3, live: 3 });
    await page.evaluate(() => {
      (window as unknown as PageWindow).hls.currentLevel = 1;
    });
    await neuralAt(page, 960);
    expect(await sessions(page)).toEqual({ created: 3, live: 3 });
    await page.close();
  });

  it("events: listeners get (event, data) through Events; once fires once, off stops a listener", async () => {
    const page = await open();
    const r = await page.evaluate(async () => {
      const w = window as unknown as PageWindow;
      w.video.src = '/lr.mp4';
      const up = w.HcdUpscaler.attach(w.video, { canvas: w.canvas, modelUrl: '/upscaler/manifest.json', ort: w.ort, runtime: 'onnxruntime-web', backend: 'wasm', statsIntervalMs: 100 });
      const once: unknown[] = [];
      const every: unknown[] = [];
      const each = (e: string) => every.push(e);
      up.once(w.Events.STATS, (e, d) => once.push([e, typeof d]));
      up.on(w.Events.STATS, each);
      up.on('backend', (e, d) => w.got.push([e, d]));
      await w.video.play();
      await new Promise((r) => setTimeout(r, 450));
      up.off('stats', each);
      const n = every.length;
      await new Promise((r) => setTimeout(r, 400));
      await up.ready;
      up.destroy();
      return { once, n, after: every.length, events: w.Events, backend: w.got };
    });
    expect(r.events).toEqual({ BACKEND: 'backend', STATS: 'stats', FALLBACK: 'fallback' });
    expect(r.once).toEqual([['stats', 'object']]);
    expect(r.n).toBeGreaterThanOrEqual(3);
    expect(r.after).toBe(r.n);
    expect(r.backend).toEqual([['backend', { backend: 'wasm', runtime: 'onnxruntime-web', output: 'cpu', threads: expect.any(Number) }]]);
    await page.close();
  });

  it('full screen: the box holding video and canvas goes full screen and frames keep being drawn on the canvas', async () => {
    const page = await open();
    await page.evaluate(async () => {
      const w = window as unknown as PageWindow;
      w.video.src = '/lr.mp4';
      w.up = w.HcdUpscaler.attach(w.video, { canvas: w.canvas, modelUrl: '/upscaler/manifest.json', ort: w.ort, runtime: 'onnxruntime-web', backend: 'wasm' });
      await w.video.play();
    });
    await neuralAt(page, 640);
    // evaluate runs with a user gesture, which requestFullscreen needs
    const r = await page.evaluate(async () => {
      const w = window as unknown as PageWindow;
      await w.up.requestFullscreen();
      const draws = w.up.drawCount;
      await new Promise((res) => setTimeout(res, 800));
      const rect = w.canvas.getBoundingClientRect();
      return { box: document.fullscreenElement === w.box, drawn: w.up.drawCount - draws, width: rect.width, screen: window.innerWidth, pip: typeof w.video.requestPictureInPicture };
    });
    expect(r.box).toBe(true);
    expect(r.drawn).toBeGreaterThan(0);
    expect(r.width).toBe(r.screen);
    expect(r.pip).toBe('function'); // the <video> keeps its own API (picture-in-picture shows its frames)
    await page.evaluate(() => document.exitFullscreen());
    await page.close();
  });

  it('captions: the video\'s showing text track is drawn over the canvas', async () => {
    const page = await open();
    writeFileSync(join(h.fx.dir, 'captions.vtt'), 'WEBVTT\n\n00:00.000 --> 00:30.000\nHello <b>upscaled</b> world\n');
    const text = await page.evaluate(async () => {
      const w = window as unknown as PageWindow;
      w.video.src = '/lr.mp4';
      const track = document.createElement('track');
      track.src = '/captions.vtt';
      track.kind = 'captions';
      w.video.append(track);
      w.up = w.HcdUpscaler.attach(w.video, { canvas: w.canvas, modelUrl: '/upscaler/manifest.json', ort: w.ort, runtime: 'onnxruntime-web', backend: 'wasm' });
      w.video.textTracks[0].mode = 'showing';
      await w.video.play();
      for (let i = 0; i < 50 && !document.querySelector('#box .hcd-captions')?.textContent; i++) await new Promise((r) => setTimeout(r, 100));
      return document.querySelector('#box .hcd-captions')?.textContent;
    });
    expect(text).toBe('Hello upscaled world');
    await page.evaluate(() => (window as unknown as PageWindow).up.destroy());
    expect(await page.evaluate(() => document.querySelector('.hcd-captions'))).toBeNull();
    await page.close();
  });

  it('upscaledCapLevelController caps by the upscaled size: a 600-pixel player keeps the 320x180 x2 level', async () => {
    const page = await open();
    const caps = await page.evaluate(async () => {
      const w = window as unknown as PageWindow;
      const run = async (ours: boolean) => {
        const cfg: Record<string, unknown> = { enableWorker: false, capLevelToPlayerSize: true, autoStartLoad: false };
        if (ours) cfg.capLevelController = w.upscaledCapLevelController(w.Hls.DefaultConfig.capLevelController);
        const hls = new w.Hls(cfg);
        const up = new w.HcdUpscaler({ hls, video: w.video, canvas: w.canvas, ort: w.ort, runtime: 'onnxruntime-web', backend: 'wasm' });
        hls.attachMedia(w.video);
        hls.loadSource('/master.m3u8');
        await new Promise((r) => hls.once('hlsManifestParsed', r));
        await new Promise((r) => setTimeout(r, 300));
        const cap = hls.autoLevelCapping;
        up.destroy();
        hls.destroy();
        return cap;
      };
      return { ours: await run(true), hlsjs: await run(false) };
    });
    // levels: 0 = 320x180 x2 (shown 640x360), 1 = 480x270 source; the player is 600 CSS pixels wide
    expect(caps).toEqual({ ours: 0, hlsjs: 1 });
    await page.close();
  });

  it('native HLS (attach with the master): only frames of an LR variant\'s size are upscaled', async () => {
    const page = await open();
    const start = (master: string) =>
      page.evaluate(async (m) => {
        const w = window as unknown as PageWindow;
        w.video.src = '/lr.mp4'; // stands in for Safari playing the master's 320x180 variant
        w.up = w.HcdUpscaler.attach(w.video, { canvas: w.canvas, master: m, ort: w.ort, runtime: 'onnxruntime-web', backend: 'wasm' });
        await w.video.play();
        await w.up.ready;
      }, master);
    await start('/master.m3u8');
    await neuralAt(page, 640);
    expect(await page.evaluate(() => (window as unknown as PageWindow).up.stats.level)).toBe(0);
    await page.evaluate(() => (window as unknown as PageWindow).up.destroy());
    await start('/master-plain.m3u8');
    await page.waitForFunction(() => (window as unknown as PageWindow).up.drawCount > 5, undefined, { timeout: 30_000 });
    const r = await page.evaluate(() => {
      const up = (window as unknown as PageWindow).up;
      return { kind: up.lastDraw?.kind, width: up.lastDraw?.width, mode: up.stats.mode };
    });
    expect(r).toEqual({ kind: 'passthrough', width: 320, mode: 'passthrough' });
    expect((await sessions(page)).created).toBe(2); // the first master's model only
    await page.close();
  });

  it('without WebGPU: the own kernel requests no onnxruntime-web file, onnxruntime-web forced only its WASM build', async () => {
    const ortFiles = async (runtime: string) => {
      const { page } = await h.openPage();
      const from = h.server.requests.length;
      await page.evaluate((r) => (window as unknown as { hcdStart(o: object): Promise<boolean> }).hcdStart({ src: '/master.m3u8', level: 0, backend: 'auto', runtime: r }), runtime);
      await page.waitForFunction(() => (window as unknown as { up: Up }).up.lastDraw?.kind === 'neural', undefined, { timeout: 60_000 });
      const files = h.server.requests.slice(from).filter((p) => p.startsWith('/ort/'));
      await page.close();
      return new Set(files);
    };
    expect(await ortFiles('auto')).toEqual(new Set());
    expect(await ortFiles('onnxruntime-web')).toEqual(new Set(['/ort/ort.wasm.min.mjs', '/ort/ort-wasm-simd-threaded.mjs', '/ort/ort-wasm-simd-threaded.wasm']));
  });

  it('a user model with Resize and Sigmoid runs through onnxruntime-web and matches onnxruntime-node', async () => {
    const { page, errors } = await h.openPage();
    await page.evaluate((o) => (window as unknown as { hcdAttach(o: object): Promise<boolean> }).hcdAttach(o), { src: h.fx.lrUrl, modelUrl: '/upscaler/resize-sigmoid.onnx' });
    await page.waitForFunction(() => document.querySelector('video')!.currentTime > 0.5, undefined, { timeout: 60_000 });
    await page.evaluate(() => document.querySelector('video')!.pause());
    await page.waitForFunction(() => {
      const up = (window as unknown as { up: Up }).up;
      return document.querySelector('video')!.paused && up.idle && up.lastDraw?.kind === 'neural';
    }, undefined, { timeout: 60_000 });
    const cap: Capture = await page.evaluate(() => {
      const up = (window as unknown as { up: Up }).up;
      const c = document.querySelector('canvas')!;
      return { png: c.toDataURL('image/png'), ...up.lastDraw!, width: c.width, height: c.height };
    });
    expect([cap.width, cap.height]).toEqual([640, 360]);
    const m = await h.bestMatch(cap, userSession);
    console.log(`resize+sigmoid: frame ${m.frame}, PSNR ${m.db.toFixed(2)} dB, next best ${m.runnerUp.toFixed(2)} dB`);
    expect(m.db).toBeGreaterThanOrEqual(45);
    expect(m.runnerUp).toBeLessThan(m.db - 5);
    expect(errors).toEqual([]);
    await page.close();
  });
});
