import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFfmpeg } from '../../src/encoder/media/ffmpeg.js';
import { startServer, type RunningServer } from '../../src/server/app.js';
import { installedRuntime } from '../../src/server/runtime.js';
import { chromiumMissing, launchChromium } from '../helpers/browser.js';
import { watchCsp } from './csp.js';

/**
 * The demo page in headless Chromium against a real two-level HLS output. The player bundle
 * is either absent (the page must fall back to plain video) or a stand-in with the plugin's
 * API (issue 7) that draws a nearest-neighbour 2x copy 12 frames late (a slow network) and
 * reports fixed stats, so the page's wiring is tested without depending on the real upscaler.
 */
const STAND_IN = `
const LAG = 12; // frames: like a network that needs half a second per frame at 24 fps
export class HcdUpscaler {
  constructor({ video, canvas, backend, wasmPaths }) {
    this.video = video; this.canvas = canvas; this.handlers = {}; this.past = [];
    this.stats = { backend: 'stand-in-' + backend + '-' + wasmPaths, fps: 24, msPerFrame: 1.5, droppedFrames: 3, upscaled: 0, mode: 'neural' };
    const ctx = canvas.getContext('2d');
    const onFrame = async (_now, meta) => {
      if (this.dead) return;
      this.handle = video.requestVideoFrameCallback(onFrame);
      const bmp = await createImageBitmap(video);
      this.past.push({ t: meta.mediaTime, bmp });
      if (this.past.length <= LAG || this.dead) return;
      const f = this.past.shift();
      canvas.width = f.bmp.width * 2; canvas.height = f.bmp.height * 2;
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(f.bmp, 0, 0, canvas.width, canvas.height);
      f.bmp.close();
      this.lastDraw = { kind: 'neural', mediaTime: f.t, width: canvas.width, height: canvas.height };
      this.stats.upscaled++;
      this.emit('stats', { ...this.stats });
    };
    this.handle = video.requestVideoFrameCallback(onFrame);
  }
  on(name, cb) { (this.handlers[name] ??= []).push(cb); }
  emit(name, data) { for (const cb of this.handlers[name] ?? []) cb(name, data); }
  destroy() { this.dead = true; this.video.cancelVideoFrameCallback(this.handle); }
}
`;

const skip = chromiumMissing();
// Generous: the machine is shared with other browser tests, and a starved page plays slowly.
const WAIT = 90_000;
let base: string;
let browser: Browser;
let plain: RunningServer;
let withPlayer: RunningServer;

async function encodeLevel(dir: string, size: string, kbps: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await runFfmpeg([
    '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=24', '-t', '3', '-vf', `scale=${size}`, '-pix_fmt', 'yuv420p',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', `${kbps}k`, '-g', '24',
    '-f', 'hls', '-hls_time', '1', '-hls_playlist_type', 'vod', '-hls_segment_filename', path.join(dir, 'seg%03d.ts'), path.join(dir, 'index.m3u8'),
  ]);
}

beforeAll(async () => {
  if (skip) return;
  base = mkdtempSync(path.join(os.tmpdir(), 'hcd-page-'));
  const out = path.join(base, 'outputs', 'clip');
  await Promise.all([encodeLevel(path.join(out, 'lr'), '320:180', 150), encodeLevel(path.join(out, 'src'), '640:360', 800)]);
  writeFileSync(path.join(out, 'master.m3u8'), [
    '#EXTM3U',
    '#EXT-X-STREAM-INF:BANDWIDTH=200000,RESOLUTION=320x180,CODECS="avc1.64000d",X-UPSCALE=2,X-HCD-MODEL="hcd-x2"',
    'lr/index.m3u8',
    '#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=640x360,CODECS="avc1.64001e"',
    'src/index.m3u8',
    '',
  ].join('\n'));
  mkdirSync(path.join(out, 'compare'));
  writeFileSync(path.join(out, 'compare', 'report.json'), '{}');
  writeFileSync(path.join(out, 'compare', 'report.html'), '<!doctype html><title>report</title>');
  writeFileSync(path.join(out, 'compare', 'rd.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="red"/></svg>');
  const playerDir = path.join(base, 'player');
  mkdirSync(playerDir);
  writeFileSync(path.join(playerDir, 'hcd-player.js'), STAND_IN);
  const root = path.join(base, 'outputs');
  [plain, withPlayer, browser] = await Promise.all([
    startServer({ root, playerDir: path.join(base, 'no-player'), port: 0, host: '127.0.0.1' }),
    startServer({ root, playerDir, port: 0, host: '127.0.0.1' }),
    launchChromium(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await plain?.close();
  await withPlayer?.close();
  if (base) rmSync(base, { recursive: true, force: true });
});

async function open(url: string): Promise<{ page: Page; errors: string[]; csp: () => Promise<string[]> }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(WAIT);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const csp = await watchCsp(page);
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.state && document.body.dataset.state !== 'loading', null, { timeout: WAIT });
  return { page, errors, csp };
}

const text = (page: Page, sel: string) => page.locator(sel).innerText();

describe.skipIf(skip)('demo page', { timeout: 300_000 }, () => {
  it('is cross-origin isolated and plays plain video when the player bundle is missing', async () => {
    const { page, errors, csp } = await open(plain.url);
    try {
      expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
      expect(await page.evaluate(() => document.body.dataset.state)).toBe('plain');
      expect(await text(page, '#notice')).toMatch(/neural upscaler did not load .*playing the plain video/);
      expect(await page.locator('#stage').getAttribute('data-mode')).toBe('plain');
      await page.waitForFunction(() => (document.getElementById('video') as HTMLVideoElement).currentTime > 0.3, null, { timeout: WAIT });

      // Renditions: Auto plus both levels, highest first, the LR one marked.
      const levels = await page.locator('#levels button').allInnerTexts();
      expect(levels).toHaveLength(3);
      expect(levels[0]).toMatch(/Auto/);
      expect(levels[1]).toMatch(/640×360[\s\S]*source[\s\S]*900 kb\/s/);
      expect(levels[2]).toMatch(/320×180[\s\S]*LR ×2[\s\S]*200 kb\/s/);
      await page.locator('#levels button').nth(2).click();
      await page.waitForFunction(() => document.getElementById('stats-level')?.textContent?.startsWith('180p'), null, { timeout: WAIT });
      expect(await page.locator('#levels button').nth(2).getAttribute('aria-pressed')).toBe('true');

      // The RD chart from compare/, and links to the reports.
      await page.waitForFunction(() => (document.getElementById('rd-chart') as HTMLImageElement).naturalWidth === 40, null, { timeout: WAIT });
      expect(await page.locator('#report-links a').evaluateAll((as) => as.map((a) => a.getAttribute('href')))).toEqual([
        '/media/clip/compare/report.html',
        '/media/clip/compare/report.json',
      ]);
      expect(errors).toEqual([]);
      // hls.js (its worker, Media Source), the chart and the API all within the page's policy
      expect(await csp()).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('wires the upscaler into the split view and the stats overlay', async () => {
    const { page, errors, csp } = await open(`${withPlayer.url}?backend=wasm`);
    try {
      expect(await page.evaluate(() => document.body.dataset.state)).toBe('ready');
      expect(await page.locator('#stage').getAttribute('data-mode')).toBe('split');
      expect(await page.locator('#notice').isHidden()).toBe(true);
      await page.waitForFunction(() => document.getElementById('stats-fps')?.textContent === '24.0', null, { timeout: WAIT });
      // the page hands the player onnxruntime-web's versioned folder
      expect(await text(page, '#stats-backend')).toBe(`stand-in-wasm-/ort/${installedRuntime().ortVersion}/`);
      expect(await text(page, '#stats-ms')).toBe('1.5');
      expect(await text(page, '#stats-dropped')).toBe('3');
      expect(await text(page, '#stats-mode')).toBe('neural');

      // On the LR level the bilinear side is drawn at 2x the LR frame, the neural side's size.
      await page.locator('#levels button').nth(2).click();
      await page.waitForFunction(() => {
        const c = document.getElementById('bilinear-canvas') as HTMLCanvasElement;
        const v = document.getElementById('video') as HTMLVideoElement;
        return v.videoWidth === 320 && c.width === 640 && c.height === 360;
      }, null, { timeout: WAIT });
      expect(await text(page, '#tag-right')).toBe('Neural ×2 (HCD)');
      // Real video pixels, not a blank canvas: testsrc2 is colourful.
      const spread = await page.evaluate(() => {
        const c = document.getElementById('bilinear-canvas') as HTMLCanvasElement;
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let sum = 0;
        let sq = 0;
        for (let i = 0; i < d.length; i += 4) {
          sum += d[i + 1];
          sq += d[i + 1] * d[i + 1];
        }
        const n = d.length / 4;
        return Math.sqrt(sq / n - (sum / n) ** 2);
      });
      expect(spread).toBeGreaterThan(20);

      // Both sides show the same frame although the neural side is 12 frames behind the video.
      await page.waitForTimeout(1500);
      await page.evaluate(() => (document.getElementById('video') as HTMLVideoElement).pause());
      await page.waitForTimeout(300);
      const psnr = await page.evaluate(() => {
        const pixels = (c: HTMLCanvasElement) => c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        const neural = document.getElementById('neural-canvas') as HTMLCanvasElement;
        const bilinear = document.getElementById('bilinear-canvas') as HTMLCanvasElement;
        const video = document.getElementById('video') as HTMLVideoElement;
        const now = document.createElement('canvas');
        now.width = neural.width;
        now.height = neural.height;
        const ctx = now.getContext('2d')!;
        ctx.imageSmoothingQuality = 'low';
        ctx.drawImage(video, 0, 0, now.width, now.height);
        const db = (a: Uint8ClampedArray, b: Uint8ClampedArray) => {
          let se = 0;
          for (let i = 0; i < a.length; i++) if (i % 4 !== 3) se += (a[i] - b[i]) ** 2;
          return 10 * Math.log10((255 * 255) / (se / ((a.length / 4) * 3)));
        };
        const n = pixels(neural);
        return { sameFrame: db(pixels(bilinear), n), currentFrame: db(pixels(now), n), size: [bilinear.width, neural.width] };
      });
      process.stdout.write(`bilinear vs neural side: ${psnr.sameFrame.toFixed(2)} dB; video's current frame vs neural side: ${psnr.currentFrame.toFixed(2)} dB\n`);
      expect(psnr.size).toEqual([640, 640]);
      expect(psnr.sameFrame).toBeGreaterThan(25);
      expect(psnr.sameFrame).toBeGreaterThan(psnr.currentFrame + 3);

      // The slider moves the clip edge of the bilinear side.
      await page.locator('#split').fill('25');
      expect(await page.locator('#stage').evaluate((s) => s.style.getPropertyValue('--split'))).toBe('25%');
      const clip = await page.locator('#bilinear-canvas').evaluate((c) => getComputedStyle(c).clipPath);
      expect(clip).toMatch(/75%/);
      expect(errors).toEqual([]);
      expect(await csp()).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('cannot be framed by another page', async () => {
    const page = await browser.newPage();
    try {
      const refused = page.waitForEvent('console', { predicate: (m) => /frame-ancestors/.test(m.text()), timeout: 20_000 });
      await page.setContent(`<iframe src="${plain.url}"></iframe>`);
      expect((await refused).text()).toMatch(/frame-ancestors 'none'/);
      const frame = page.frames().find((f) => f !== page.mainFrame());
      const shown = frame ? await frame.evaluate(() => document.getElementById('stage') !== null).catch(() => false) : false;
      expect(shown).toBe(false);
    } finally {
      await page.close();
    }
  });
});
