import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeVideo } from '../../src/encoder/job/encode.js';
import { buildPlayer } from '../../src/player/build.js';
import { startServer, type RunningServer } from '../../src/server/app.js';
import { chromiumMissing, launchChromium } from '../helpers/browser.js';
import { makeClip } from '../encoder/helpers.js';

/**
 * The whole path of the product on real pixels: a clip, encoded by `hcd encode`'s pipeline with
 * HCD, served by `hcd serve`'s app with the real player bundle, played on the demo page in
 * headless Chromium, upscaled on WASM and drawn to the canvas.
 */
const missing = chromiumMissing();
describe.skipIf(!!missing)('demo page end to end', () => {
  let dir: string;
  let server: RunningServer;
  let browser: Browser;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hcd-e2e-'));
    const clip = await makeClip(join(dir, 'clip.mp4'), { seconds: 2, width: 320, height: 180 });
    await encodeVideo({
      input: clip,
      outdir: join(dir, 'out', 'clip'),
      model: 'bicubic-x2',
      segment: 1,
      // below and above the bitrate where the normal audio group takes over: two audio groups
      renditions: [200_000, 400_000],
      sourceRenditions: [],
      codecAware: false,
      hcdIters: [1, 1],
      resume: false,
      force: false,
    });
    const playerDir = join(dir, 'player');
    await buildPlayer(playerDir);
    server = await startServer({ root: join(dir, 'out'), playerDir, port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('plays the encoded output, draws upscaled frames and shows the backend', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}?backend=wasm`);
    // the page runs on the player build's lean hls.js (alternate audio in, subtitles and DRM out)
    expect(await page.evaluate(() => [...document.scripts].map((s) => new URL(s.src || location.href).pathname).filter((p) => p.includes('hls')))).toEqual([expect.stringMatching(/^\/player\/hls\.hcd\.[0-9a-f]{10}\.js$/)]);
    await page.waitForFunction(() => document.getElementById('stats-backend')?.textContent === 'wasm', undefined, { timeout: 90_000 });
    const canvasStats = () =>
      page.evaluate(() => {
        const c = document.getElementById('neural-canvas') as HTMLCanvasElement;
        const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let sum = 0;
        let sq = 0;
        const n = px.length / 4;
        for (let i = 0; i < px.length; i += 4) {
          const y = 0.2126 * px[i] + 0.7152 * px[i + 1] + 0.0722 * px[i + 2];
          sum += y;
          sq += y * y;
        }
        const mean = sum / n;
        return { width: c.width, height: c.height, mean, std: Math.sqrt(Math.max(0, sq / n - mean * mean)) };
      });
    await page.waitForFunction(() => (document.getElementById('neural-canvas') as HTMLCanvasElement).width === 320, undefined, { timeout: 90_000 });
    // testsrc2 has colour bars and moving patterns: a drawn frame is far from flat
    await expect.poll(async () => (await canvasStats()).std, { timeout: 90_000, interval: 500 }).toBeGreaterThan(20);
    const s = await canvasStats();
    expect([s.width, s.height]).toEqual([320, 180]);
    // the page starts on the LR rendition (what the plugin is for), upscaled x2
    expect(await page.textContent('#stats-level')).toMatch(/LR×2/);
    // the audio is a rendition of its own (EXT-X-MEDIA): one track, buffered along with the video
    // (a MediaSource's buffered ranges are where every SourceBuffer has data)
    const media = await page.evaluate(() => {
      const demo = (window as unknown as { hcdDemo: { hls: { audioTracks: unknown[] } } }).hcdDemo;
      const v = document.getElementById('video') as HTMLVideoElement;
      return { tracks: demo.hls.audioTracks.length, buffered: v.buffered.length ? v.buffered.end(0) - v.buffered.start(0) : 0 };
    });
    expect(media.tracks).toBe(1);
    expect(media.buffered).toBeGreaterThan(1);
    // to the rung of the other audio group: hls.js switches the audio track with it, and plays on
    type HlsView = { levels: { attrs: Record<string, string> }[]; currentLevel: number; audioTracks: { groupId: string }[] };
    // what hls.js did around the switch, to tell a stall's cause if playback does not go on
    await page.evaluate(() => {
      const w = window as unknown as { hcdDemo: { hls: { on: (e: string, f: (e: string, d: Record<string, unknown>) => void) => void } }; hlsLog: string[] };
      w.hlsLog = [];
      const at = () => (document.getElementById('video') as HTMLVideoElement).currentTime.toFixed(3);
      const pick = (d: Record<string, unknown>) => {
        const f = d.frag as { type?: string; sn?: unknown; start?: number; end?: number } | undefined;
        return JSON.stringify({ details: d.details, fatal: d.fatal, reason: d.reason, type: d.type, level: d.level, id: d.id, startOffset: d.startOffset, endOffset: d.endOffset, frag: f && [f.type, f.sn, f.start?.toFixed(3), f.end?.toFixed(3)] });
      };
      for (const e of ['hlsError', 'hlsLevelSwitching', 'hlsLevelSwitched', 'hlsAudioTrackSwitching', 'hlsAudioTrackSwitched', 'hlsBufferFlushing', 'hlsFragBuffered']) {
        w.hcdDemo.hls.on(e, (_e, d) => w.hlsLog.push(`${at()} ${e} ${pick(d)}`));
      }
    });
    const wanted = await page.evaluate(() => {
      const hls = (window as unknown as { hcdDemo: { hls: HlsView } }).hcdDemo.hls;
      const now = hls.levels[hls.currentLevel].attrs.AUDIO;
      const other = hls.levels.findIndex((l) => l.attrs.AUDIO !== now);
      hls.currentLevel = other;
      return hls.levels[other].attrs.AUDIO;
    });
    // polled rather than waited for as an event: on a loaded machine the switch can land before a
    // listener would, or the 2 s clip can reach its end first (then it is played again)
    await page.waitForFunction(
      (w) => {
        const hls = (window as unknown as { hcdDemo: { hls: HlsView } }).hcdDemo.hls;
        const v = document.getElementById('video') as HTMLVideoElement;
        if (v.ended) {
          v.currentTime = 0;
          void v.play();
        }
        return hls.audioTracks.length > 0 && hls.audioTracks.every((t) => t.groupId === w);
      },
      wanted,
      { timeout: 60_000, polling: 250 },
    );
    // playback goes on after the switch: 0.3 s of it, summed over the clip's loops, polled rather
    // than timed over a fixed second, which a loaded machine can spend stalled. A switch that
    // lands in the 2 s clip's last half second can leave the new audio group's buffer ending a
    // few frames before the video's, and MSE then waits there without ever reporting `ended`: a
    // position held there for 2 s is taken as the end, and playback starts again from 0
    await page.evaluate(() => {
      const v = document.getElementById('video') as HTMLVideoElement;
      (window as unknown as { advanced: { last: number; sum: number; still: number } }).advanced = { last: v.currentTime, sum: 0, still: 0 };
    });
    await page.waitForFunction(
      () => {
        const v = document.getElementById('video') as HTMLVideoElement;
        const a = (window as unknown as { advanced: { last: number; sum: number; still: number } }).advanced;
        a.still = v.currentTime === a.last ? a.still + 1 : 0;
        const heldAtEnd = a.still >= 20 && v.duration - v.currentTime < 0.5;
        if (v.ended || heldAtEnd) {
          v.currentTime = 0;
          a.still = 0;
          void v.play();
        }
        a.sum += v.currentTime >= a.last ? v.currentTime - a.last : v.currentTime;
        a.last = v.currentTime;
        return a.sum > 0.3;
      },
      undefined,
      { timeout: 30_000, polling: 100 },
    ).catch(async () => {
      // say where playback stood, so a stall can be told from a slow machine
      const at = await page.evaluate(() => {
        const v = document.getElementById('video') as HTMLVideoElement;
        const ranges = (r: TimeRanges) => Array.from({ length: r.length }, (_, k) => [r.start(k), r.end(k)].map((t) => t.toFixed(2)).join('-'));
        return { time: v.currentTime, duration: v.duration, paused: v.paused, ended: v.ended, readyState: v.readyState, buffered: ranges(v.buffered) };
      });
      const log = await page.evaluate(() => (window as unknown as { hlsLog: string[] }).hlsLog);
      const skips = await page.evaluate(() => (window as unknown as { hcdDemo: { gapSkips: unknown[] } }).hcdDemo.gapSkips);
      throw new Error(`playback did not advance 0.3 s after the audio-group switch: ${JSON.stringify(at)}; gap guard moves: ${JSON.stringify(skips)}; hls.js: ${log.join(' | ')}`);
    });
    const group = await page.evaluate(() => (window as unknown as { hcdDemo: { hls: HlsView } }).hcdDemo.hls.audioTracks[0].groupId);
    expect(group).toBe(wanted);
    const shot = join(dir, 'demo.png');
    await page.screenshot({ path: shot });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    expect(errors).toEqual([]);
    await page.close();
  });
});
