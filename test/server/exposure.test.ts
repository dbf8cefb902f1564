import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/app.js';
import { makeFixture, PRIVATE, PRIVATE_FILES, raw, type Fixture } from './fixture.js';

/**
 * What `/media` hands out, and to whom: only the files of listed outputs that a player or the
 * compare report needs, CORS only on those, and a demo page that no other site can frame.
 */
let fx: Fixture;
let folder: RunningServer;
let single: RunningServer;
let playerDir: string;

beforeAll(async () => {
  fx = makeFixture();
  playerDir = mkdtempSync(path.join(os.tmpdir(), 'hcd-player-'));
  writeFileSync(path.join(playerDir, 'hcd-player.js'), 'export class HcdUpscaler {}\n');
  [folder, single] = await Promise.all([
    startServer({ root: fx.root, playerDir, port: 0, host: '127.0.0.1' }),
    startServer({ root: fx.out1, playerDir, port: 0, host: '127.0.0.1' }),
  ]);
});

afterAll(async () => {
  await folder?.close();
  await single?.close();
  fx?.cleanup();
  if (playerDir) rmSync(playerDir, { recursive: true, force: true });
});

const SERVED = [
  'master.m3u8',
  'lr/index.m3u8',
  'lr/seg0.ts',
  'fmp4/init.mp4',
  'fmp4/seg0.m4s',
  'upscaler/model.onnx',
  'upscaler/still.onnx',
  'upscaler/manifest.json',
  'compare/report.json',
  'compare/report.html',
  'compare/report.csv',
  'compare/rd.svg',
  'compare/crops/A.png',
  'compare/streams/A_crf22.mp4',
];

describe('/media serves what players and the report need', () => {
  it.each(SERVED)('out1/%s is served in both layouts', async (f) => {
    for (const srv of [folder, single]) {
      const r = await raw(srv.url, `/media/out1/${f}`);
      expect(r.status, srv.url).toBe(200);
      expect(r.headers['access-control-allow-origin']).toBe('*');
      expect(r.headers['cross-origin-resource-policy']).toBe('cross-origin');
    }
  });

  it.each(PRIVATE_FILES)('out1/%s is not served in either layout', async (f) => {
    for (const srv of [folder, single]) {
      for (const method of ['GET', 'HEAD']) {
        const r = await raw(srv.url, `/media/out1/${f.split('/').map(encodeURIComponent).join('/')}`, { method });
        // the dot-folder is refused by the path rules (403), the rest are not there for clients (404)
        expect([403, 404], `${method} ${f}`).toContain(r.status);
        expect(r.body.toString()).not.toContain(PRIVATE);
        expect(r.headers['access-control-allow-origin']).toBeUndefined();
      }
    }
  });

  it('serves nothing from a folder that is not a listed output', async () => {
    for (const p of ['/media/not-an-output/index.m3u8', '/media/not-an-output/x.ts', '/media/.scratch/master.m3u8', '/media/linked-out/master.m3u8']) {
      const r = await raw(folder.url, p);
      expect([403, 404], p).toContain(r.status);
      expect(r.body.toString()).not.toContain(PRIVATE);
    }
  });

  it('job.json with the input path and state.json are not served', async () => {
    for (const srv of [folder, single]) {
      for (const f of ['job.json', 'state.json']) expect((await raw(srv.url, `/media/out1/${f}`)).status).toBe(404);
    }
  });
});

describe('CORS only on media', () => {
  const origin = { Origin: 'https://evil.example' };

  it.each(['/api/outputs', '/', '/demo.js', '/player/hcd-player.js', '/vendor/hls.min.js', '/ort/ort.wasm.min.mjs', '/nope'])(
    '%s carries no CORS header and a same-origin CORP',
    async (p) => {
      const r = await raw(folder.url, p, { headers: origin });
      expect(r.headers['access-control-allow-origin'], p).toBeUndefined();
      expect(r.headers['access-control-expose-headers'], p).toBeUndefined();
      expect(r.headers['cross-origin-resource-policy'], p).toBe('same-origin');
    },
  );

  it('a preflight outside /media gets no CORS permission', async () => {
    const r = await raw(folder.url, '/api/outputs', {
      method: 'OPTIONS',
      headers: { ...origin, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'range' },
    });
    expect(r.status).toBeLessThan(300);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    expect(r.headers['access-control-allow-headers']).toBeUndefined();
  });

  it('media GETs, 304s and preflights do carry it', async () => {
    const first = await raw(folder.url, '/media/out1/lr/seg0.ts', { headers: origin });
    expect(first.headers['access-control-allow-origin']).toBe('*');
    const again = await raw(folder.url, '/media/out1/lr/seg0.ts', { headers: { ...origin, 'If-None-Match': first.headers.etag as string } });
    expect(again.status).toBe(304);
    expect(again.headers['access-control-allow-origin']).toBe('*');
    const pre = await raw(folder.url, '/media/out1/lr/seg0.ts', {
      method: 'OPTIONS',
      headers: { ...origin, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'range' },
    });
    expect(pre.headers['access-control-allow-origin']).toBe('*');
  });
});

describe('the demo page', () => {
  it('has a Content-Security-Policy that forbids framing and other origins', async () => {
    const r = await raw(folder.url, '/');
    const csp = r.headers['content-security-policy'] as string;
    expect(csp).toBeDefined();
    const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(directives.get('default-src')).toEqual(["'self'"]);
    // onnxruntime-web compiles WASM; nothing may run inline script or eval
    expect(directives.get('script-src')).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(csp).not.toMatch(/unsafe-inline|'unsafe-eval'|\*/);
  });
});
