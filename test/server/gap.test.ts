import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeVideo } from '../../src/encoder/job/encode.js';
import { chromiumMissing, launchChromium, ROOT, serveStatic, type StaticServer } from '../helpers/browser.js';
import { makeClip, readMediaPlaylist } from '../encoder/helpers.js';

/**
 * The demo page's gap guard (src/server/public/gap.js), in Chromium on a real encode, in the
 * state an immediate level switch can leave hls.js in: the buffer flushed under a playing video,
 * the playhead frozen where its decoded frames ran out, and the next segment appended after
 * that point. Chromium waits there; the guard moves the playhead into the segment, and leaves a
 * hole longer than its limit alone.
 */
const missing = chromiumMissing();
describe.skipIf(!!missing)('gap guard', () => {
  let dir: string;
  let server: StaticServer;
  let browser: Browser;
  let media: { urls: string[]; codecs: string };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hcd-gap-'));
    const clip = await makeClip(join(dir, 'clip.mp4'), { seconds: 3, width: 160, height: 96, audio: false });
    const out = join(dir, 'out');
    await encodeVideo({ input: clip, outdir: out, model: 'bicubic-x2', segment: 1, renditions: [200_000], sourceRenditions: [], codecAware: false, hcdIters: [0, 0], resume: false, force: false });
    const rung = readdirSync(out).find((d) => d.startsWith('lr-'))!;
    const pl = readMediaPlaylist(join(out, rung, 'index.m3u8'));
    const codecs = /CODECS="([^"]+)"/.exec(readFileSync(join(out, 'master.m3u8'), 'utf8'))![1];
    media = { urls: [pl.map!, pl.segments[0].uri, pl.segments[1].uri].map((u) => `/media/${rung}/${u}`), codecs };
    const site = join(dir, 'site');
    mkdirSync(site);
    writeFileSync(join(site, 'index.html'), '<!doctype html><html><body></body></html>');
    server = await serveStatic({ '/public/': join(ROOT, 'src/server/public'), '/media/': out, '/': site });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * What an immediate level switch does to a playing video: segment 0 plays, everything is
   * removed 0.8 s before its end, the playhead runs on until the decoded frames run out, and
   * only then segment 1 arrives. Returns segment 1's start and where the playhead froze.
   */
  async function stuckBeforeHole(page: Page): Promise<{ start: number; at: number }> {
    await page.goto(`${server.url}/index.html`);
    return page.evaluate(async (m) => {
      const v = document.createElement('video');
      v.muted = true;
      document.body.append(v);
      const ms = new MediaSource();
      v.src = URL.createObjectURL(ms);
      await new Promise((r) => ms.addEventListener('sourceopen', r, { once: true }));
      const sb = ms.addSourceBuffer(`video/mp4; codecs="${m.codecs}"`);
      const done = () => new Promise((r) => sb.addEventListener('updateend', r, { once: true }));
      const [init, seg0, seg1] = await Promise.all(m.urls.map(async (u) => (await fetch(u)).arrayBuffer()));
      for (const b of [init, seg0]) {
        sb.appendBuffer(b);
        await done();
      }
      const end0 = v.buffered.end(0);
      // the encoder's timestamps do not start at 0
      v.currentTime = v.buffered.start(0);
      await new Promise((r) => v.addEventListener('seeked', r, { once: true }));
      await v.play();
      while (v.currentTime < end0 - 0.8) await new Promise((r) => setTimeout(r, 10));
      sb.remove(0, Infinity);
      await done();
      // frozen: the same time for half a second
      let last = -1;
      while (v.currentTime !== last) {
        last = v.currentTime;
        await new Promise((r) => setTimeout(r, 500));
      }
      sb.appendBuffer(seg1);
      await done();
      (window as unknown as { v: HTMLVideoElement }).v = v;
      return { start: v.buffered.start(0), at: v.currentTime };
    }, media);
  }

  /** Starts the guard on the page's video; its moves are kept in window.skips. */
  async function guard(page: Page, o: { holdMs: number; maxHole: number }): Promise<void> {
    // a module script, as the demo page loads it (an import() inside evaluate would be rewritten by the test's bundler)
    await page.addScriptTag({ type: 'module', content: "import { startGapGuard } from '/public/gap.js'; window.startGapGuard = startGapGuard;" });
    await page.waitForFunction(() => 'startGapGuard' in window);
    await page.evaluate((o) => {
      const w = window as unknown as { v: HTMLVideoElement; skips: number[][]; startGapGuard: (v: HTMLVideoElement, o: object) => () => void };
      w.skips = [];
      w.startGapGuard(w.v, { ...o, onSkip: (from: number, to: number) => w.skips.push([from, to]) });
    }, o);
  }
  const skips = (page: Page) => page.evaluate(() => (window as unknown as { skips: number[][] }).skips);

  const now = (page: Page) => page.evaluate(() => (window as unknown as { v: HTMLVideoElement }).v.currentTime);

  it('moves a playhead held before a hole into the range after it, and playback goes on', async () => {
    const page = await browser.newPage();
    try {
      const { start, at } = await stuckBeforeHole(page);
      process.stdout.write(`playhead froze ${(start - at).toFixed(3)} s before the next range\n`);
      expect(start - at).toBeGreaterThan(0);
      // without the guard Chromium waits there: the state the guard is for
      await page.waitForTimeout(1500);
      expect(await now(page)).toBe(at);
      await guard(page, { holdMs: 500, maxHole: 1 });
      await page.waitForFunction((s) => (window as unknown as { v: HTMLVideoElement }).v.currentTime > s + 0.2, start, { timeout: 30_000 });
      const moves = await skips(page);
      expect(moves).toHaveLength(1);
      expect(moves[0][0]).toBe(at);
      expect(moves[0][1]).toBeCloseTo(start + 0.01, 6);
    } finally {
      await page.close();
    }
  });

  it('leaves a hole longer than maxHole to the player', async () => {
    const page = await browser.newPage();
    try {
      const { start, at } = await stuckBeforeHole(page);
      await guard(page, { holdMs: 300, maxHole: (start - at) / 2 });
      // ten hold periods: time for the guard to have acted, had it been going to
      await page.waitForTimeout(3000);
      expect(await now(page)).toBe(at);
      expect(await skips(page)).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
