import { renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/app.js';
import { makeFixture, pattern, raw, type Fixture } from './fixture.js';

/**
 * A later `hcd encode` into the same folder rewrites files under the same names, so no media
 * URL may be cached without revalidation, and revalidation must see every rewrite.
 */
let fx: Fixture;
let srv: RunningServer;
const HOUR_AGO = Date.now() / 1000 - 3600;

beforeAll(async () => {
  fx = makeFixture();
  for (const f of MEDIA) utimesSync(path.join(fx.out1, f), HOUR_AGO, HOUR_AGO);
  srv = await startServer({ root: fx.root, port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await srv?.close();
  fx?.cleanup();
});

const MEDIA = ['master.m3u8', 'lr/index.m3u8', 'lr/seg0.ts', 'lr/seg1.ts', 'lr/seg2.ts', 'fmp4/init.mp4', 'fmp4/seg0.m4s', 'upscaler/model.onnx', 'upscaler/manifest.json', 'compare/report.json', 'compare/streams/A_crf22.mp4'];
const get = (p: string, headers: Record<string, string> = {}) => raw(srv.url, p, { headers });

/** What the encoder does: the new version goes to a temp name, then is renamed over the old. */
function rewrite(rel: string, bytes: Buffer, mtimeMs?: number): void {
  const file = path.join(fx.out1, rel);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  if (mtimeMs !== undefined) utimesSync(tmp, mtimeMs / 1000, mtimeMs / 1000);
  renameSync(tmp, file);
}

function revalidates(cacheControl: string | undefined): boolean {
  if (!cacheControl || /immutable/.test(cacheControl)) return false;
  if (/(^|,\s*)no-cache(\s*,|$)/.test(cacheControl)) return true;
  const maxAge = /max-age=(\d+)/.exec(cacheControl);
  return /must-revalidate/.test(cacheControl) && maxAge !== null && Number(maxAge[1]) <= 60;
}

describe('media caching', () => {
  it.each(MEDIA)('%s revalidates, with an ETag and a Last-Modified', async (f) => {
    const r = await get(`/media/out1/${f}`);
    expect(r.status).toBe(200);
    expect(revalidates(r.headers['cache-control']), r.headers['cache-control']).toBe(true);
    expect(r.headers.etag).toMatch(/^(W\/)?"[^"]+"$/);
    expect(Date.parse(r.headers['last-modified'] as string)).toBe(Math.floor(HOUR_AGO) * 1000);
  });

  it('If-None-Match: 304 while unchanged, 200 with the new bytes after a same-size, same-mtime rewrite', async () => {
    const url = '/media/out1/lr/seg1.ts';
    const first = await get(url);
    const etag = first.headers.etag as string;
    expect((await get(url, { 'If-None-Match': etag })).status).toBe(304);
    const mtime = statSync(path.join(fx.out1, 'lr/seg1.ts')).mtimeMs;
    const next = pattern(first.body.length, 77);
    rewrite('lr/seg1.ts', next, mtime);
    const after = await get(url, { 'If-None-Match': etag });
    expect(after.status).toBe(200);
    expect(after.body.equals(next)).toBe(true);
    expect(after.headers.etag).not.toBe(etag);
    expect((await get(url, { 'If-None-Match': after.headers.etag as string })).status).toBe(304);
  });

  it('If-Modified-Since: 304 while unchanged, 200 with the new bytes after a rewrite', async () => {
    const url = '/media/out1/lr/seg2.ts';
    const first = await get(url);
    const since = first.headers['last-modified'] as string;
    expect((await get(url, { 'If-Modified-Since': since })).status).toBe(304);
    const next = pattern(first.body.length + 5, 78);
    rewrite('lr/seg2.ts', next);
    const after = await get(url, { 'If-Modified-Since': since });
    expect(after.status).toBe(200);
    expect(after.body.equals(next)).toBe(true);
  });

  it('a rewrite within the same second is not hidden from If-Modified-Since', async () => {
    const url = '/media/out1/fmp4/seg0.m4s';
    const second = Math.floor(Date.now() / 1000) * 1000;
    const v1 = pattern(700, 41);
    const v2 = pattern(700, 42);
    rewrite('fmp4/seg0.m4s', v1, second + 100);
    const first = await get(url);
    expect(first.body.equals(v1)).toBe(true);
    rewrite('fmp4/seg0.m4s', v2, second + 600);
    // the date the client would send: the one it was given, or its own guess of it
    const since = (first.headers['last-modified'] as string | undefined) ?? new Date(second).toUTCString();
    const after = await get(url, { 'If-Modified-Since': since });
    expect(after.status).toBe(200);
    expect(after.body.equals(v2)).toBe(true);
  });

  it('If-None-Match wins over If-Modified-Since', async () => {
    const url = '/media/out1/lr/index.m3u8';
    const first = await get(url);
    const r = await get(url, { 'If-None-Match': '"other"', 'If-Modified-Since': first.headers['last-modified'] as string });
    expect(r.status).toBe(200);
  });
});

describe('runtime files', () => {
  it.each(['/vendor/hls.min.js', '/ort/ort.wasm.min.mjs', '/'])('%s (unversioned URL) revalidates and answers 304', async (p) => {
    const r = await raw(srv.url, p, { method: 'HEAD' });
    expect(revalidates(r.headers['cache-control']), r.headers['cache-control']).toBe(true);
    const again = await get(p, { 'If-None-Match': r.headers.etag as string });
    expect(again.status).toBe(304);
  });
});
