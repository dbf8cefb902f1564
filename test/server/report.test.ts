import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompareReport } from '../../src/compare/run.js';
import { startServer, type RunningServer } from '../../src/server/app.js';
import { readHeadline } from '../../src/server/report.js';
import { chromiumMissing, launchChromium } from '../helpers/browser.js';
import { makeClip, runCliInProcess, segmentOf } from '../encoder/helpers.js';
import { watchCsp } from './csp.js';
import { raw } from './fixture.js';

/**
 * An `hcd encode` output with the report `hcd compare OUTDIR` put into it, served by `hcd serve`:
 * the listing carries the BD-rate headline, every file the report links to is served, and the
 * demo page shows the chart and the figures read from report.json.
 */
let base: string;
let out: string;
let report: CompareReport;
let srv: RunningServer;

beforeAll(async () => {
  base = mkdtempSync(path.join(os.tmpdir(), 'hcd-report-'));
  const clip = await makeClip(path.join(base, 'in.mp4'), { seconds: 1, width: 160, height: 96 });
  out = path.join(base, 'outputs', 'clip');
  const e = await runCliInProcess(['encode', clip, '-o', out, '--model', 'bicubic-x2', '--segment', '1', '--renditions', '100k', '--source-renditions', '300k', '--hcd-iters', '0,0']);
  expect(e.code, e.stderr).toBe(0);
  const c = await runCliInProcess(['compare', out, '--crf', '22,34', '--threads', '1']);
  expect(c.code, c.stderr).toBe(0);
  report = JSON.parse(readFileSync(path.join(out, 'compare', 'report.json'), 'utf8')) as CompareReport;

  // A second output whose report.json is a link out of the served folder: never read.
  const outside = path.join(base, 'outside.json');
  writeFileSync(outside, JSON.stringify({ ...report, pipelines: [{ id: 'S', label: 'SECRET' }], bd_rate_vs_hull: { S: -99 } }));
  const linked = path.join(base, 'outputs', 'linked');
  mkdirSync(path.join(linked, 'compare'), { recursive: true });
  writeFileSync(path.join(linked, 'master.m3u8'), readFileSync(path.join(out, 'master.m3u8')));
  symlinkSync(outside, path.join(linked, 'compare', 'report.json'));

  srv = await startServer({ root: path.join(base, 'outputs'), playerDir: path.join(base, 'no-player'), port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await srv?.close();
  if (base) rmSync(base, { recursive: true, force: true });
});

const get = (p: string) => raw(srv.url, p);

describe('an encode output with its compare report, served', () => {
  it('/api/outputs lists the report, the chart and the BD-rate headline from report.json', async () => {
    const list = JSON.parse((await get('/api/outputs')).body.toString()) as { name: string; report?: string; reportHtml?: string; chart?: string; bd?: { rows: { id: string; label: string; vsHull: number | null; vsHullLow: number | null; vsSource: number | null; bdPsnr: number | null }[]; hullAnchor: string[]; input: { name: string } } }[];
    const clip = list.find((o) => o.name === 'clip')!;
    expect(clip).toMatchObject({ report: '/media/clip/compare/report.json', reportHtml: '/media/clip/compare/report.html', chart: '/media/clip/compare/rd.svg' });
    expect(clip.bd!.hullAnchor).toEqual(['A', 'B34', 'B', 'B4']);
    expect(clip.bd!.input.name).toBe('in.mp4');
    expect(clip.bd!.rows.map((r) => r.id)).toEqual(['B34', 'B', 'B4', 'C']);
    for (const r of clip.bd!.rows) {
      expect(r.label).toBe(report.pipelines.find((p) => p.id === r.id)!.label);
      expect(r.vsHull).toBe(report.bd_rate_vs_hull[r.id]);
      expect(r.vsHullLow).toBe(report.bd_rate_vs_hull_low[r.id]);
      expect(r.vsSource).toBe(report.bd_rate_vs_source[r.id]);
      expect(r.bdPsnr).toBe(report.bd_psnr_vs_source[r.id]);
      expect(Number.isFinite(r.vsHull)).toBe(true);
    }
    // the linked report is listed by URL (serving it is refused) but its contents stay unread
    const linked = list.find((o) => o.name === 'linked')!;
    expect(linked.report).toBe('/media/linked/compare/report.json');
    expect(linked.bd).toBeUndefined();
    expect((await get('/media/linked/compare/report.json')).status).toBe(403);
  });

  it('serves report.json, rd.svg, report.html and every crop and stream the report links to', async () => {
    const json = await get('/media/clip/compare/report.json');
    expect(json.status).toBe(200);
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect(json.headers['cache-control']).toBe('no-cache');
    expect(JSON.parse(json.body.toString())).toEqual(report);
    const svg = await get('/media/clip/compare/rd.svg');
    expect([svg.status, svg.headers['content-type']]).toEqual([200, 'image/svg+xml']);
    expect(svg.body.toString()).toContain('PSNR-Y');
    const html = await get('/media/clip/compare/report.html');
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    const links = [...html.body.toString().matchAll(/(?:src|href)="([^"#:]+)"/g)].map((m) => m[1]);
    expect(links.filter((l) => l.startsWith('crops/')).sort()).toEqual(['crops/A.png', 'crops/B.png', 'crops/B34.png', 'crops/B4.png', 'crops/C.png', 'crops/source.png']);
    expect(links.filter((l) => l.startsWith('streams/'))).toHaveLength(report.points.length);
    for (const l of links) {
      const r = await get(`/media/clip/compare/${l}`);
      expect(r.status, l).toBe(200);
      expect(r.headers['content-type']).toBe(l.endsWith('.png') ? 'image/png' : 'video/mp4');
      expect(r.body.equals(readFileSync(path.join(out, 'compare', l)))).toBe(true);
      // a new compare run rewrites these under the same names: revalidated, never immutable
      expect(r.headers['cache-control'], l).toBe('no-cache');
    }
    // and so are the encode's own segments: a new encode into the folder rewrites them too
    expect((await get(`/media/clip/lr-100k/${segmentOf(out, 0)}`)).headers['cache-control']).toBe('no-cache');
  });

  it('the headline is null for files that are not a report with BD-rates', async () => {
    const f = path.join(base, 'not-a-report.json');
    for (const body of ['{}', '{"points":[]}', 'not json', '[1,2]']) {
      writeFileSync(f, body);
      expect(await readHeadline(f)).toBeNull();
    }
    expect(await readHeadline(path.join(base, 'missing.json'))).toBeNull();
    // a report where the curves do not overlap keeps the pipeline with a null figure
    writeFileSync(f, JSON.stringify({ pipelines: [{ id: 'A', label: 'a' }, { id: 'C', label: 'c' }], bd_rate_vs_hull: { A: 0, C: null }, bd_rate_vs_source: { C: -3.5 } }));
    expect((await readHeadline(f))!.rows).toEqual([{ id: 'C', label: 'c', vsHull: null, vsHullLow: null, vsSource: -3.5, bdPsnr: null }]);
  });
});

/** The page's formatting: sign always shown, U+2212 for minus, one decimal. */
function pct(v: number | null): string {
  if (v === null) return 'n/a';
  const s = Math.abs(v).toFixed(1);
  return s === '0.0' ? '0.0 %' : `${v < 0 ? '\u2212' : '+'}${s} %`;
}

const skip = chromiumMissing();
describe.skipIf(skip)('demo page with the report', { timeout: 180_000 }, () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows the RD chart, the BD-rates read from report.json and links to the reports', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(`${srv.url}?output=clip`);
      await page.waitForFunction(() => document.body.dataset.state && document.body.dataset.state !== 'loading', null, { timeout: 90_000 });
      await page.waitForFunction(() => (document.getElementById('rd-chart') as HTMLImageElement).naturalWidth > 100, null, { timeout: 90_000 });
      expect(await page.locator('#report-card').isVisible()).toBe(true);
      expect(await page.locator('#rd-chart').getAttribute('src')).toBe('/media/clip/compare/rd.svg');
      expect(await page.locator('#bd-table').isVisible()).toBe(true);
      expect(await page.locator('#bd-hull-head').innerText()).toBe('vs best of A+B34+B+B4');
      const rows = await page.locator('#bd-table tbody tr').evaluateAll((trs) =>
        trs.map((tr) => ({
          id: (tr as HTMLElement).dataset.pipeline,
          label: tr.querySelector('.label')?.textContent,
          hull: tr.querySelector('.bd-hull')?.textContent,
          low: tr.querySelector('.bd-hull-low')?.textContent,
          source: tr.querySelector('.bd-source')?.textContent,
        })),
      );
      expect(rows).toEqual(
        ['B34', 'B', 'B4', 'C'].map((id) => ({
          id,
          label: report.pipelines.find((p) => p.id === id)!.label,
          hull: pct(report.bd_rate_vs_hull[id]),
          low: pct(report.bd_rate_vs_hull_low[id]),
          source: pct(report.bd_rate_vs_source[id]),
        })),
      );
      expect(await page.locator('#report-bd-what').innerText()).toMatch(/^1\.0 s of in\.mp4 · BD-rate on PSNR-Y/);
      expect(await page.locator('#report-links a').evaluateAll((as) => as.map((a) => a.getAttribute('href')))).toEqual([
        '/media/clip/compare/report.html',
        '/media/clip/compare/report.json',
      ]);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('hides the table for an output without a report', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${srv.url}?output=linked`);
      await page.waitForFunction(() => document.body.dataset.state && document.body.dataset.state !== 'loading', null, { timeout: 90_000 });
      expect(await page.locator('#report-bd').isHidden()).toBe(true);
      expect(await page.locator('#bd-table tbody tr').count()).toBe(0);
    } finally {
      await page.close();
    }
  });

  // Not proxied, the WASM is compiled by the page itself ('wasm-unsafe-eval') and the threads are
  // workers the page starts; proxied, a worker the page starts does both.
  it.each([false, true])('runs the output\'s upscaler on onnxruntime-web WASM with 2 threads (proxy %s) under the page\'s policy', async (proxy) => {
    const page = await browser.newPage();
    const csp = await watchCsp(page);
    try {
      await page.goto(`${srv.url}?output=linked`);
      // A string, not a function: the test runner rewrites import() in functions it compiles.
      const result = await page.evaluate(`(async () => {
        const ort = await import('/ort/ort.min.mjs');
        const manifest = await (await fetch('/media/clip/upscaler/manifest.json')).json();
        ort.env.wasm.wasmPaths = '/ort/';
        ort.env.wasm.numThreads = 2;
        ort.env.wasm.proxy = ${proxy};
        const session = await ort.InferenceSession.create('/media/clip/upscaler/model.onnx', { executionProviders: ['wasm'] });
        const x = new ort.Tensor('float32', new Float32Array(3 * 8 * 8).fill(0.5), [1, 3, 8, 8]);
        const out = await session.run({ [manifest.input]: x });
        return { isolated: self.crossOriginIsolated, dims: Array.from(out[manifest.output].dims) };
      })()`);
      expect(result).toEqual({ isolated: true, dims: [1, 3, 16, 16] });
      expect(await csp()).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
