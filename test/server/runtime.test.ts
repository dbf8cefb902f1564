import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/app.js';
import { installedRuntime } from '../../src/server/runtime.js';
import { makeFixture, raw, type Fixture } from './fixture.js';

/**
 * Bytes on the wire: versioned runtime URLs cached for good (the old ones still revalidate),
 * and text, scripts and WASM compressed, never media or byte ranges.
 */
let fx: Fixture;
let srv: RunningServer;
let playerDir: string;
const HASHED = 'hcd-player.0123456789.js';
const rt = installedRuntime();
const IMMUTABLE = 'public, max-age=31536000, immutable';

beforeAll(async () => {
  fx = makeFixture();
  playerDir = mkdtempSync(path.join(os.tmpdir(), 'hcd-player-'));
  const bundle = `export class HcdUpscaler {}\n${'// padding so that the bundle is worth compressing\n'.repeat(60)}`;
  writeFileSync(path.join(playerDir, 'hcd-player.js'), bundle);
  writeFileSync(path.join(playerDir, HASHED), bundle);
  writeFileSync(path.join(playerDir, 'player.json'), JSON.stringify({ bundle: HASHED, onnxruntimeWeb: rt.ortVersion }));
  srv = await startServer({ root: fx.root, playerDir, port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await srv?.close();
  fx?.cleanup();
  rmSync(playerDir, { recursive: true, force: true });
});

const get = (p: string, headers: Record<string, string> = {}) => raw(srv.url, p, { headers });

describe('versioned runtime URLs', () => {
  it.each([`/ort/${rt.ortVersion}/ort.wasm.min.mjs`, `/ort/${rt.ortVersion}/ort-wasm-simd-threaded.wasm`, `/vendor/hls.js/${rt.hlsVersion}/hls.min.js`, `/player/${HASHED}`])(
    '%s is cached for good',
    async (p) => {
      const r = await raw(srv.url, p, { method: 'HEAD' });
      expect(r.status).toBe(200);
      expect(r.headers['cache-control']).toBe(IMMUTABLE);
      expect(r.headers.etag).toBeTruthy();
    },
  );

  it('the same bytes as under the unversioned URLs, which keep revalidating', async () => {
    const a = await get(`/ort/${rt.ortVersion}/ort.wasm.min.mjs`);
    const b = await get('/ort/ort.wasm.min.mjs');
    expect(a.body.equals(b.body)).toBe(true);
    expect(b.headers['cache-control']).toBe('no-cache');
    expect((await get('/player/hcd-player.js')).headers['cache-control']).toBe('no-cache');
  });

  it.each(['/ort/0.0.1/ort.wasm.min.mjs', `/ort/${rt.ortVersion}/package.json`, `/ort/${rt.ortVersion}/x/ort.min.mjs`, '/vendor/hls.js/0.0.1/hls.min.js', `/vendor/hls.js/${rt.hlsVersion}/package.json`])(
    '%s (another version, or not a runtime file) is a JSON 404',
    async (p) => {
      const r = await get(p);
      expect(r.status).toBe(404);
      expect(JSON.parse(r.body.toString())).toEqual({ error: 'not found' });
    },
  );

  it('the page names the versioned URLs, the hashed bundle included, and revalidates', async () => {
    const r = await get('/');
    const html = r.body.toString();
    expect(html).toContain(`src="/vendor/hls.js/${rt.hlsVersion}/hls.min.js"`);
    expect(html).toContain(`<meta name="hcd-ort" content="/ort/${rt.ortVersion}/">`);
    expect(html).toContain(`<meta name="hcd-player" content="/player/${HASHED}">`);
    expect(r.headers['cache-control']).toBe('no-cache');
    expect(r.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect((await get('/', { 'If-None-Match': r.headers.etag as string })).status).toBe(304);
  });

  it("with the build's lean hls.js, the page loads it from its hashed URL, cached for good", async () => {
    const lean = 'hls.hcd.abcdef0123.js';
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hcd-player-'));
    writeFileSync(path.join(dir, HASHED), 'export class HcdUpscaler {}\n');
    writeFileSync(path.join(dir, lean), 'var Hls = function () {};\n');
    writeFileSync(path.join(dir, 'player.json'), JSON.stringify({ bundle: HASHED, onnxruntimeWeb: rt.ortVersion, hls: lean }));
    const s = await startServer({ root: fx.root, playerDir: dir, port: 0, host: '127.0.0.1' });
    try {
      const html = (await raw(s.url, '/')).body.toString();
      expect(html).toContain(`src="/player/${lean}"`);
      expect(html).not.toContain('hls.min.js');
      const r = await raw(s.url, `/player/${lean}`);
      expect(r.status).toBe(200);
      expect(r.headers['cache-control']).toBe(IMMUTABLE);
      expect(r.body.toString()).toBe('var Hls = function () {};\n');
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('media never gets a long lifetime', async () => {
    for (const f of ['master.m3u8', 'lr/seg0.ts', 'upscaler/model.onnx']) {
      expect((await get(`/media/out1/${f}`)).headers['cache-control'], f).toBe('no-cache');
    }
  });
});

describe('compression', () => {
  const ortJs = `/ort/${rt.ortVersion}/ort.wasm.min.mjs`;
  const onDisk = readFileSync(path.join(rt.ortDir, 'ort.wasm.min.mjs'));

  it('brotli where accepted, gzip otherwise; the bytes decode to the file; the tag turns weak', async () => {
    const br = await get(ortJs, { 'Accept-Encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toMatch(/Accept-Encoding/i);
    expect(brotliDecompressSync(br.body).equals(onDisk)).toBe(true);
    expect(br.body.length).toBeLessThan(onDisk.length / 2);
    const plain = await get(ortJs);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(br.headers.etag).toBe(`W/${plain.headers.etag as string}`);
    const gz = await get(ortJs, { 'Accept-Encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).equals(onDisk)).toBe(true);
  });

  it('a compressed copy revalidates with its weak tag, and never satisfies If-Range', async () => {
    const br = await get(ortJs, { 'Accept-Encoding': 'br' });
    const tag = br.headers.etag as string;
    expect((await get(ortJs, { 'Accept-Encoding': 'br', 'If-None-Match': tag })).status).toBe(304);
    const ranged = await get(ortJs, { 'Accept-Encoding': 'br', Range: 'bytes=0-99', 'If-Range': tag });
    expect(ranged.status).toBe(200);
    expect(ranged.headers['content-encoding']).toBeUndefined();
    expect(ranged.body.equals(onDisk)).toBe(true);
  });

  it('WASM, scripts and the page are compressed (answers of 1 KB and more)', async () => {
    for (const p of [`/ort/${rt.ortVersion}/ort-wasm-simd-threaded.wasm`, '/', '/demo.js', '/demo.css', `/player/${HASHED}`]) {
      const r = await get(p, { 'Accept-Encoding': 'gzip' });
      expect(r.status, p).toBe(200);
      expect(r.headers['content-encoding'], p).toBe('gzip');
    }
  });

  it('ranges, segments, models and HEAD are not', async () => {
    const ranged = await get(ortJs, { 'Accept-Encoding': 'br', Range: 'bytes=10-19' });
    expect(ranged.status).toBe(206);
    expect(ranged.headers['content-encoding']).toBeUndefined();
    expect(ranged.body.equals(onDisk.subarray(10, 20))).toBe(true);
    for (const p of ['/media/out1/lr/seg0.ts', '/media/out1/fmp4/seg0.m4s', '/media/out1/fmp4/init.mp4', '/media/out1/upscaler/model.onnx']) {
      const r = await get(p, { 'Accept-Encoding': 'br, gzip' });
      expect(r.headers['content-encoding'], p).toBeUndefined();
    }
    const head = await raw(srv.url, ortJs, { method: 'HEAD', headers: { 'Accept-Encoding': 'br' } });
    expect(head.headers['content-encoding']).toBeUndefined();
    expect(Number(head.headers['content-length'])).toBe(onDisk.length);
  });
});
