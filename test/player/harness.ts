/**
 * Shared set-up of the player's browser tests: the HLS fixture, the built bundle, a static
 * cross-origin-isolated server, headless Chromium, and Node's reference upscaling of the same
 * decoded LR frames (I420 -> shared/yuv.ts -> onnxruntime-node).
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import type { Browser, Page } from 'playwright-core';
import { runFfmpeg } from '../../src/encoder/media/ffmpeg.js';
import { createSession, ort } from '../../src/encoder/graph/session.js';
import { buildPlayer } from '../../src/player/build.js';
import { planarToPacked } from '../../src/shared/image.js';
import { psnr } from '../../src/shared/metrics.js';
import { i420FrameBytes, i420ToPlanarRgb, splitI420 } from '../../src/shared/yuv.js';
import { launchChromium, playerMounts, ROOT, serveStatic, type StaticServer } from '../helpers/browser.js';
import { makeFixture, type Fixture } from './fixture.js';

/** models/hcd-x2's upscaler, served by the harness as /upscaler/hcd-x2.onnx. */
export const HCD_X2 = join(ROOT, 'models/hcd-x2/upscaler.onnx');

export interface Capture {
  png: string;
  tiles?: number;
  mediaTime: number;
  kind: string;
  colourPath?: string;
  output?: string;
  fixedShape?: boolean;
  width: number;
  height: number;
}

/**
 * Plays the LR level, pauses once past `at` seconds, and returns the canvas when the paused frame
 * has been upscaled (the player refines a still frame with the network, also when the session
 * becomes ready only after the pause).
 */
export async function captureLrFrame(
  page: Page,
  backend: 'wasm' | 'webgpu',
  at: number,
  timeout: number,
  opts: { tile?: number; keepOnGpu?: boolean; runtime?: 'auto' | 'onnxruntime-web'; relaxedSimd?: boolean } = {},
): Promise<Capture> {
  await page.evaluate(
    ([b, o]) => (window as unknown as { hcdStart(o: object): Promise<boolean> }).hcdStart({ src: '/master.m3u8', level: 0, backend: b, adaptive: false, ...o }),
    [backend, opts] as const,
  );
  await page.waitForFunction((t) => document.querySelector('video')!.currentTime > t, at, { timeout });
  await page.evaluate(() => document.querySelector('video')!.pause());
  await page.waitForFunction(() => {
    const w = window as unknown as { up: { idle: boolean; lastDraw?: { kind: string } } };
    return document.querySelector('video')!.paused && w.up.idle && w.up.lastDraw?.kind === 'neural';
  }, undefined, { timeout });
  // canvas and lastDraw are updated together, so reading both at once is consistent
  return page.evaluate(() => {
    const w = window as unknown as { up: { lastDraw: { kind: string; mediaTime: number; colourPath?: string } } };
    const c = document.querySelector('canvas')!;
    return { png: c.toDataURL('image/png'), ...w.up.lastDraw, width: c.width, height: c.height };
  });
}

/**
 * `HcdUpscaler.attach` on the LR level's MP4 with the model at `modelUrl`, paused once past `at`
 * seconds; the canvas once the paused frame is upscaled, and the backend event.
 */
export async function captureAttached(page: Page, modelUrl: string, backend: 'wasm' | 'webgpu', at: number, timeout: number): Promise<{ cap: Capture; runtime?: string }> {
  await page.evaluate((o) => (window as unknown as { hcdAttach(o: object): Promise<boolean> }).hcdAttach(o), { src: '/lr.mp4', modelUrl, backend });
  await page.waitForFunction((t) => document.querySelector('video')!.currentTime > t, at, { timeout });
  await page.evaluate(() => document.querySelector('video')!.pause());
  await page.waitForFunction(() => {
    const w = window as unknown as { up: { idle: boolean; lastDraw?: { kind: string } } };
    return document.querySelector('video')!.paused && w.up.idle && w.up.lastDraw?.kind === 'neural';
  }, undefined, { timeout });
  return page.evaluate(() => {
    const w = window as unknown as { up: { lastDraw: Capture }; events: { name: string; runtime?: string }[] };
    const c = document.querySelector('canvas')!;
    return { cap: { ...w.up.lastDraw, png: c.toDataURL('image/png'), width: c.width, height: c.height }, runtime: w.events.find((e) => e.name === 'backend')?.runtime };
  });
}

export function pngPixels(dataUrl: string): PNG {
  return PNG.sync.read(Buffer.from(dataUrl.split(',')[1], 'base64'));
}

export class PlayerHarness {
  dir!: string;
  fx!: Fixture;
  server!: StaticServer;
  browser!: Browser;
  private lrFrames!: Buffer;
  private session!: ort.InferenceSession;

  async start(opts: { webgpu?: boolean } = {}): Promise<this> {
    this.dir = mkdtempSync(join(tmpdir(), 'hcd-player-'));
    this.fx = await makeFixture(join(this.dir, 'site'));
    // the project's own x2 upscaler, as a bare ONNX file
    copyFileSync(HCD_X2, join(this.fx.dir, 'upscaler/hcd-x2.onnx'));
    await buildPlayer(join(this.dir, 'player'), { minify: false });
    this.server = await serveStatic(playerMounts(join(this.dir, 'player'), this.fx.dir));
    this.browser = await launchChromium({ webgpu: opts.webgpu });
    // the LR frames exactly as a decoder outputs them (the HLS segments are a copy of this stream)
    this.lrFrames = (await runFfmpeg(['-i', this.fx.lrMp4, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-'])).stdout;
    this.session = await createSession(this.fx.modelBytes, { threads: 1 });
    return this;
  }

  async close(): Promise<void> {
    await this.browser?.close();
    await this.server?.close();
    await this.session?.release();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  async openPage(b: Browser = this.browser): Promise<{ page: Page; errors: string[] }> {
    const page = await b.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${this.server.url}/index.html`);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    return { page, errors };
  }

  /**
   * Node's upscaling of LR frame `i`: I420 -> shared/yuv.ts -> onnxruntime-node -> RGBA bytes,
   * with the fixture's model or another x2 `session` (its first input and output).
   */
  async nodeUpscale(i: number, session: ort.InferenceSession = this.session): Promise<Uint8Array> {
    const { width: w, height: h } = this.fx.lr;
    const bytes = i420FrameBytes(w, h);
    const p = splitI420(this.lrFrames.subarray(i * bytes, (i + 1) * bytes), w, h);
    const x = i420ToPlanarRgb(p.y, p.u, p.v, w, h, new Float32Array(3 * w * h));
    const res = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, [1, 3, h, w]) });
    return planarToPacked(res[session.outputNames[0]].data as Float32Array, 2 * w, 2 * h, { channels: 4 }) as Uint8Array;
  }

  /**
   * PSNR of the canvas against the Node upscale of every frame of the clip (48 small runs). The
   * media time cannot pin the frame exactly: hls.js shifts MPEG-TS timestamps by the stream's
   * start delay, and the clip loops. `runnerUp` shows that the match is specific to one frame.
   */
  async bestMatch(cap: Capture, session?: ort.InferenceSession): Promise<{ frame: number; db: number; expected: number; runnerUp: number }> {
    const canvas = pngPixels(cap.png).data;
    const expected = Math.round(cap.mediaTime * this.fx.fps);
    const count = this.lrFrames.length / i420FrameBytes(this.fx.lr.width, this.fx.lr.height);
    const scores: { frame: number; db: number }[] = [];
    for (let i = 0; i < count; i++) {
      scores.push({ frame: i, db: psnr(canvas, await this.nodeUpscale(i, session), { width: 2 * this.fx.lr.width, height: 2 * this.fx.lr.height, channels: 4 }) });
    }
    scores.sort((a, b) => b.db - a.db);
    return { ...scores[0], expected, runnerUp: scores[1].db };
  }
}
