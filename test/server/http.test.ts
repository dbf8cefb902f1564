import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/app.js';
import { installedRuntime } from '../../src/server/runtime.js';
import { makeFixture, raw, type Fixture } from './fixture.js';

let fx: Fixture;
let srv: RunningServer;
let playerDir: string;

beforeAll(async () => {
  fx = makeFixture();
  playerDir = mkdtempSync(path.join(os.tmpdir(), 'hcd-player-'));
  mkdirSync(path.join(playerDir, 'chunks'));
  writeFileSync(path.join(playerDir, 'hcd-player.js'), 'export class HcdUpscaler {}\n');
  writeFileSync(path.join(playerDir, 'chunks', 'a.mjs'), 'export const a = 1;\n');
  srv = await startServer({ root: fx.root, playerDir, port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await srv?.close();
  fx?.cleanup();
  rmSync(playerDir, { recursive: true, force: true });
});

const get = (p: string, headers: Record<string, string> = {}) => raw(srv.url, p, { headers });

describe('outputs', () => {
  it('lists the subfolders that have a master playlist, with their reports', async () => {
    const r = await get('/api/outputs');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(r.body.toString())).toEqual([
      {
        name: 'out1',
        master: '/media/out1/master.m3u8',
        report: '/media/out1/compare/report.json',
        reportHtml: '/media/out1/compare/report.html',
        chart: '/media/out1/compare/rd.svg',
      },
      { name: 'out2', master: '/media/out2/master.m3u8' },
    ]);
  });

  it('serves a single output folder under its own name', async () => {
    const one = await startServer({ root: fx.out1, port: 0, host: '127.0.0.1' });
    try {
      const list = JSON.parse((await raw(one.url, '/api/outputs')).body.toString());
      expect(list).toHaveLength(1);
      expect(list[0].name).toBe('out1');
      const seg = await raw(one.url, '/media/out1/lr/seg0.ts');
      expect(seg.status).toBe(200);
      expect(seg.body.equals(fx.segment)).toBe(true);
      // Only the output's own name maps to it.
      expect((await raw(one.url, '/media/out2/master.m3u8')).status).toBe(404);
    } finally {
      await one.close();
    }
  });
});

describe('media files', () => {
  it.each([
    ['/media/out1/master.m3u8', 'application/vnd.apple.mpegurl', 'no-cache'],
    ['/media/out1/lr/index.m3u8', 'application/vnd.apple.mpegurl', 'no-cache'],
    ['/media/out1/lr/seg0.ts', 'video/mp2t', 'no-cache'],
    ['/media/out1/fmp4/seg0.m4s', 'video/iso.segment', 'no-cache'],
    ['/media/out1/fmp4/init.mp4', 'video/mp4', 'no-cache'],
    ['/media/out1/upscaler/model.onnx', 'application/octet-stream', 'no-cache'],
    ['/media/out1/upscaler/manifest.json', 'application/json; charset=utf-8', 'no-cache'],
    ['/media/out1/compare/rd.svg', 'image/svg+xml', 'no-cache'],
    ['/media/out1/compare/crops/A.png', 'image/png', 'no-cache'],
    ['/media/out1/compare/report.html', 'text/html; charset=utf-8', 'no-cache'],
  ])('%s is %s, cached as %s, loadable from other origins', async (p, type, cache) => {
    const r = await get(p);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe(type);
    expect(r.headers['cache-control']).toBe(cache);
    expect(r.headers['cross-origin-resource-policy']).toBe('cross-origin');
    expect(r.headers['access-control-allow-origin']).toBe('*');
    expect(r.headers['access-control-expose-headers']).toMatch(/Content-Range/);
    expect(r.headers['accept-ranges']).toBe('bytes');
    expect(Number(r.headers['content-length'])).toBe(r.body.length);
  });

  it('sends the model byte for byte', async () => {
    const r = await get('/media/out1/upscaler/model.onnx');
    expect(r.body.equals(fx.model)).toBe(true);
  });

  it('answers byte ranges with 206 and the exact bytes', async () => {
    const size = fx.segment.length;
    const cases: [string, number, number][] = [
      ['bytes=0-99', 0, 99],
      ['bytes=100-', 100, size - 1],
      ['bytes=-500', size - 500, size - 1],
      ['bytes=9990-20000', 9990, size - 1], // an end past the file is clipped, not refused
      ['bytes=0-99,50-149', 0, 149], // overlapping ranges are combined into one
    ];
    for (const [range, start, end] of cases) {
      const r = await get('/media/out1/lr/seg0.ts', { Range: range });
      expect(r.status, range).toBe(206);
      expect(r.headers['content-range'], range).toBe(`bytes ${start}-${end}/${size}`);
      expect(Number(r.headers['content-length']), range).toBe(end - start + 1);
      expect(r.body.equals(fx.segment.subarray(start, end + 1)), range).toBe(true);
    }
  });

  it('refuses unsatisfiable ranges with 416 and the size', async () => {
    for (const range of ['bytes=10000-10010', 'bytes=20000-']) {
      const r = await get('/media/out1/lr/seg0.ts', { Range: range });
      expect(r.status, range).toBe(416);
      expect(r.headers['content-range']).toBe(`bytes */${fx.segment.length}`);
      expect(JSON.parse(r.body.toString()).error).toMatch(/range not satisfiable/);
    }
    const empty = await get('/media/out1/empty.ts', { Range: 'bytes=0-10' });
    expect(empty.status).toBe(416);
  });

  it('sends the whole file for malformed, multi-part or stale If-Range requests', async () => {
    const cases: Record<string, string>[] = [{ Range: 'bytes=abc' }, { Range: 'bytes=0-9,100-109' }, { Range: 'bytes=0-9', 'If-Range': '"stale"' }];
    for (const headers of cases) {
      const r = await get('/media/out1/lr/seg0.ts', headers);
      expect(r.status).toBe(200);
      expect(r.body.equals(fx.segment)).toBe(true);
    }
  });

  it('honours If-Range with the current ETag', async () => {
    const etag = (await get('/media/out1/lr/seg0.ts')).headers.etag as string;
    const r = await get('/media/out1/lr/seg0.ts', { Range: 'bytes=0-9', 'If-Range': etag });
    expect(r.status).toBe(206);
    expect(r.body.equals(fx.segment.subarray(0, 10))).toBe(true);
  });

  it('answers HEAD with the headers and no body', async () => {
    const r = await raw(srv.url, '/media/out1/lr/seg0.ts', { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe(String(fx.segment.length));
    expect(r.headers['content-type']).toBe('video/mp2t');
    expect(r.body.length).toBe(0);
    const ranged = await raw(srv.url, '/media/out1/lr/seg0.ts', { method: 'HEAD', headers: { Range: 'bytes=0-99' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers['content-length']).toBe('100');
  });

  it('answers a revalidation with 304', async () => {
    const first = await get('/media/out1/master.m3u8');
    const again = await get('/media/out1/master.m3u8', { 'If-None-Match': first.headers.etag as string });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  it('serves a symlink that stays inside the folder', async () => {
    const r = await get('/media/out1/alias.ts');
    expect(r.status).toBe(200);
    expect(r.body.equals(fx.segment)).toBe(true);
  });
});

describe('CORS', () => {
  it('answers a preflight for a Range request', async () => {
    const r = await raw(srv.url, '/media/out1/lr/seg0.ts', {
      method: 'OPTIONS',
      headers: { Origin: 'https://player.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'range' },
    });
    expect(r.status).toBe(204);
    expect(r.headers['access-control-allow-origin']).toBe('*');
    expect(r.headers['access-control-allow-methods']).toMatch(/GET/);
    expect(r.headers['access-control-allow-headers']?.toLowerCase()).toContain('range');
    expect(Number(r.headers['access-control-max-age'])).toBeGreaterThan(0);
  });

  it('refuses other methods with 405 JSON', async () => {
    const r = await raw(srv.url, '/media/out1/lr/seg0.ts', { method: 'DELETE' });
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('GET, HEAD, OPTIONS');
    expect(JSON.parse(r.body.toString())).toEqual({ error: 'method DELETE not allowed' });
  });
});

describe('demo page and its assets', () => {
  it.each([
    ['/', 'text/html; charset=utf-8', 'no-cache'],
    ['/demo.js', 'text/javascript; charset=utf-8', 'no-cache'],
    ['/demo.css', 'text/css; charset=utf-8', 'no-cache'],
    ['/vendor/hls.min.js', 'text/javascript; charset=utf-8', 'no-cache'],
    ['/ort/ort-wasm-simd-threaded.jsep.wasm', 'application/wasm', 'no-cache'],
    ['/ort/ort-wasm-simd-threaded.jsep.mjs', 'text/javascript; charset=utf-8', 'no-cache'],
    ['/ort/ort.wasm.min.mjs', 'text/javascript; charset=utf-8', 'no-cache'],
    ['/player/hcd-player.js', 'text/javascript; charset=utf-8', 'no-cache'],
    ['/player/chunks/a.mjs', 'text/javascript; charset=utf-8', 'no-cache'],
  ])('%s is %s with COOP/COEP', async (p, type, cache) => {
    const r = await raw(srv.url, p, { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe(type);
    expect(r.headers['cache-control']).toBe(cache);
    expect(r.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(r.headers['cross-origin-embedder-policy']).toBe('require-corp');
    expect(Number(r.headers['content-length'])).toBeGreaterThan(0);
  });

  it('the page loads the player, hls.js and its own files from this server', async () => {
    const html = (await get('/')).body.toString();
    // the runtime under versioned URLs, cached for good (test/server/runtime.test.ts)
    const { ortVersion, hlsVersion } = installedRuntime();
    expect(html).toContain(`src="/vendor/hls.js/${hlsVersion}/hls.min.js"`);
    expect(html).toContain(`<meta name="hcd-ort" content="/ort/${ortVersion}/">`);
    expect(html).toContain('src="/demo.js"');
    const js = (await get('/demo.js')).body.toString();
    expect(js).toContain("'/player/hcd-player.js'");
    expect(js).toContain('wasmPaths: ORT_PATH');
    for (const id of ['stats-backend', 'stats-fps', 'stats-ms']) expect(html).toContain(`id="${id}"`);
  });

  it('only serves onnxruntime-web runtime files under /ort/', async () => {
    for (const p of ['/ort/package.json', '/ort/ort.node.min.js.map', '/ort/../package.json', '/ort/']) {
      const r = await get(p);
      expect([403, 404], p).toContain(r.status);
      expect(r.headers['content-type'], p).toMatch(/^application\/json/);
    }
  });

  it('says the player is not built when dist/player is missing', async () => {
    const bare = await startServer({ root: fx.root, playerDir: path.join(fx.base, 'no-such-dir'), port: 0, host: '127.0.0.1' });
    try {
      const r = await raw(bare.url, '/player/hcd-player.js');
      expect(r.status).toBe(404);
      expect(r.headers['cross-origin-embedder-policy']).toBe('require-corp');
      expect(JSON.parse(r.body.toString()).error).toMatch(/npm run build:player/);
    } finally {
      await bare.close();
    }
  });
});

describe('errors', () => {
  it.each(['/nope', '/api/nope', '/media/out1/nope.ts', '/media/nope/master.m3u8', '/media/out1/lr', '/media/out1/lr/', '/media/not-an-output/x.ts'])(
    '%s is a JSON 404',
    async (p) => {
      const r = await get(p);
      expect(r.status).toBe(404);
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(r.headers['cache-control']).toBe('no-store');
      expect(JSON.parse(r.body.toString())).toEqual({ error: 'not found' });
    },
  );
});
