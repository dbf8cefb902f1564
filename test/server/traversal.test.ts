import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/app.js';
import { safeSegments } from '../../src/server/files.js';
import { makeFixture, raw, SECRET, type Fixture } from './fixture.js';

let fx: Fixture;
let srv: RunningServer;

beforeAll(async () => {
  fx = makeFixture();
  srv = await startServer({ root: fx.root, port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await srv?.close();
  fx?.cleanup();
});

// A line of the repository's own package.json, which sits two folders above src/server.
const PACKAGE_MARK = '"name": "hcd-stream"';
const SHADOW = readFileSync('/etc/passwd', 'utf8').split('\n')[0];

const ATTACKS = [
  '/media/../package.json',
  '/media/out1/../../package.json',
  '/media/out1/../../../../../../etc/passwd',
  '/media/%2e%2e/package.json',
  '/media/%2e%2e%2fpackage.json',
  '/media/out1/%2e%2e%2f%2e%2e%2fsibling.txt',
  '/media/out1/%2E%2E%2F%2E%2E%2Fsibling.txt',
  '/media/%252e%252e%252fpackage.json',
  '/media/out1/%252e%252e/%252e%252e/sibling.txt',
  '/media/out1/..%5c..%5csibling.txt',
  '/media/out1/..\\..\\sibling.txt',
  '/media/out1/lr/seg0.ts%00.m3u8',
  '/media/out1/%00',
  '/media//etc/passwd',
  '/media/%2fetc%2fpasswd',
  '/media/out1/%2fetc%2fpasswd',
  '/media/out1/lr/escape.ts',
  '/media/out1/outdir/secret.txt',
  '/media/linked-out/master.m3u8',
  '/media/out1/.partial.ts.tmp',
  '/media/.scratch/master.m3u8',
  '/media/out1/%',
  '/../package.json',
  '/%2e%2e/package.json',
  '/%2e%2e%2f%2e%2e%2fpackage.json',
  '/..%5c..%5cpackage.json',
  '/player/../../package.json',
  '/player/%2e%2e%2f%2e%2e%2fpackage.json',
  '/ort/..%2fpackage.json',
  '/ort/%2e%2e%2fpackage.json',
  '/vendor/../package.json',
];

describe('path traversal', () => {
  it.each(ATTACKS)('%s is refused without leaking anything', async (p) => {
    for (const method of ['GET', 'HEAD']) {
      const r = await raw(srv.url, p, { method });
      expect([403, 404], `${method} ${p}`).toContain(r.status);
      const body = r.body.toString('latin1');
      expect(body).not.toContain(SECRET);
      expect(body).not.toContain(PACKAGE_MARK);
      expect(body).not.toContain(SHADOW);
      if (method === 'GET') {
        expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(Object.keys(JSON.parse(body))).toEqual(['error']);
      }
    }
  });

  it('the attacks would have found real files: the targets exist where they point', () => {
    expect(readFileSync(path.join(fx.base, 'sibling.txt'), 'utf8')).toBe(SECRET);
    expect(readFileSync(path.join(fx.out1, 'lr', 'escape.ts'), 'utf8')).toBe(SECRET);
    expect(readFileSync(path.resolve('package.json'), 'utf8')).toContain(PACKAGE_MARK);
  });

  it('does not list a symlinked or hidden output folder', async () => {
    const names = JSON.parse((await raw(srv.url, '/api/outputs')).body.toString()).map((o: { name: string }) => o.name);
    expect(names).toEqual(['out1', 'out2']);
  });
});

describe('safeSegments', () => {
  it('decodes plain names once and refuses everything that is not one', () => {
    expect(safeSegments('/out1/lr/seg%200.ts')).toEqual(['out1', 'lr', 'seg 0.ts']);
    expect(safeSegments('/a/%252e%252e')).toEqual(['a', '%2e%2e']);
    expect(safeSegments('/out1/lr/')).toEqual(['out1', 'lr']);
    expect(safeSegments('/')).toEqual([]);
    for (const bad of ['/..', '/a/./b', '/%2e%2e', '/a%2fb', '/a%5cb', '/a\\b', '/a%00', '//etc', '/.hidden', '/%E0%A4%A', 'relative']) {
      expect(safeSegments(bad), bad).toBeNull();
    }
  });
});
