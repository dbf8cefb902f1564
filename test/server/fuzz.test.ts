import http from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/app.js';
import { makeFixture, PRIVATE, PRIVATE_FILES, SECRET, type Fixture, type RawResponse } from './fixture.js';
import { expectedRange, headerArb, printable, specArb } from './range-model.js';

/**
 * The same parsers as properties.test.ts, reached the way a client reaches them: generated
 * paths and headers sent over a socket. Every answer is a correct one or a JSON 4xx.
 */
let fx: Fixture;
let srv: RunningServer;
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
const RUNS = { numRuns: 150 };

beforeAll(async () => {
  fx = makeFixture();
  srv = await startServer({ root: fx.root, port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  agent.destroy();
  await srv?.close();
  fx?.cleanup();
});

function send(rawPath: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const u = new URL(srv.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: rawPath, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function expectJsonError(r: RawResponse): void {
  expect(r.status).toBeGreaterThanOrEqual(400);
  expect(r.status).toBeLessThan(500);
  expect(Object.keys(JSON.parse(r.body.toString()))).toEqual(['error']);
}

const PIECES = ['out1', 'out2', 'lr', 'seg0.ts', 'master.m3u8', 'job.json', 'state.json', 'upscaler', 'model.onnx', 'compare', 'crops', 'A.png', 'not-an-output', 'linked-out', 'outdir', 'escape.ts', '.work', '..', '.', '%2e%2e', '%2E.', '%2f', '%5c', '%00', '%', '%25', '%c0%ae', '\\', '', '~', ';x', 'a%20b', '%ff', '%F0%9F%8E%A5'];

const OUTPUTS = ['out1', 'out2', 'not-an-output', 'linked-out', '.scratch', 'nope', '..', '%2e%2e', ''];
const INSIDE = [...PRIVATE_FILES, 'master.m3u8', 'lr/seg0.ts', 'lr/escape.ts', 'outdir/secret.txt', 'upscaler/model.onnx', 'compare/crops/A.png', '.partial.ts.tmp'];

describe('generated request paths', () => {
  it('get a file only where one is served, else a JSON 4xx; never 5xx or a private byte', async () => {
    const pieces = fc.array(fc.constantFrom(...PIECES), { maxLength: 5 }).map((p) => p.join('/'));
    // under /media: an output name, then a path that exists in the fixture, or pieces, or both
    const media = fc.tuple(fc.constantFrom(...OUTPUTS), fc.oneof(fc.constantFrom(...INSIDE), pieces, fc.tuple(pieces, fc.constantFrom(...INSIDE)).map(([a, b]) => `${a}/${b}`))).map(([o, rest]) => `/media/${o}/${rest}`);
    const other = fc.tuple(fc.constantFrom('/', '/player/', '/ort/', '/vendor/', '/api/', '/media'), pieces).map(([m, rest]) => `${m}${rest}`);
    const pathArb = fc.tuple(fc.oneof({ weight: 3, arbitrary: media }, { weight: 1, arbitrary: other }), fc.constantFrom('', '?x=1', '?', '#f'));
    await fc.assert(
      fc.asyncProperty(pathArb, async ([p, tail]) => {
        const r = await send(`${p}${tail}`);
        const body = r.body.toString('latin1');
        expect(body).not.toContain(PRIVATE);
        expect(body).not.toContain(SECRET);
        expect(r.status).toBeLessThan(500);
        if (r.status >= 300) expectJsonError(r);
      }),
      { numRuns: 400 },
    );
  });
});

describe('generated Range headers', () => {
  const url = '/media/out1/lr/seg0.ts';

  function expectConsistent(r: RawResponse): void {
    const size = fx.segment.length;
    expect([200, 206, 416]).toContain(r.status);
    if (r.status === 200) expect(r.body.equals(fx.segment)).toBe(true);
    if (r.status === 416) expect(r.headers['content-range']).toBe(`bytes */${size}`);
    if (r.status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(r.headers['content-range'] ?? '');
      expect(m).not.toBeNull();
      const [start, end] = [Number(m![1]), Number(m![2])];
      expect(Number(m![3])).toBe(size);
      expect(r.body.equals(fx.segment.subarray(start, end + 1))).toBe(true);
    }
  }

  it('well-formed or not, each gets the RFC 9110 answer with the right bytes', async () => {
    // A file of fx.segment's size: positions around the end of it are the interesting ones.
    const near = fc.oneof(fc.bigInt(0n, 20n), fc.bigInt(9_980n, 10_020n), fc.bigInt(0n, 10n ** 22n));
    const spec = fc.oneof(specArb, fc.record({ kind: fc.constant('int' as const), first: near, last: fc.option(near, { nil: null }) }), fc.record({ kind: fc.constant('suffix' as const), length: near }));
    const ascii = (h: string) => /^[\x20-\x7e\t]*$/.test(h);
    await fc.assert(
      fc.asyncProperty(headerArb(fc.array(spec, { maxLength: 4 })).filter(({ header }) => ascii(header)), async ({ specs, header }) => {
        const r = await send(url, { Range: header });
        expectConsistent(r);
        const want = expectedRange(specs, fx.segment.length);
        expect(r.status, header).toBe(want.kind === 'whole' ? 200 : want.kind === 'part' ? 206 : 416);
        if (want.kind === 'part') expect(r.headers['content-range']).toBe(`bytes ${want.start}-${want.end}/${fx.segment.length}`);
      }),
      RUNS,
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(printable, printable.map((s) => `bytes=${s}`)), async (header) => {
        expectConsistent(await send(url, { Range: header }));
      }),
      RUNS,
    );
  });

  it('with any conditional headers, the answer is a 304 or the right bytes', async () => {
    const etag = (await send(url)).headers.etag as string;
    const validator = fc.oneof(printable, fc.constant(etag), fc.constant(`W/${etag}`), fc.constant(new Date().toUTCString()), fc.constant('Thu, 01 Jan 1970 00:00:00 GMT'));
    const cond = fc.record({ 'If-None-Match': validator, 'If-Modified-Since': validator, 'If-Range': validator, Range: fc.constantFrom('bytes=0-99', 'bytes=-50', 'bytes=5-') }, { requiredKeys: [] });
    await fc.assert(
      fc.asyncProperty(cond, async (headers) => {
        const r = await send(url, headers as Record<string, string>);
        if (r.status === 304) expect(r.body.length).toBe(0);
        else expectConsistent(r);
      }),
      RUNS,
    );
  });
});
