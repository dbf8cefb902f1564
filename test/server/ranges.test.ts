import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/app.js';
import { makeFixture, raw, type Fixture } from './fixture.js';

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

describe('suffix ranges (RFC 9110 §14.1.2)', () => {
  it.each(['bytes=-99999999', 'bytes=-10000', 'bytes=-10001', 'bytes=-99999999999999999999999'])(
    '%s on a 10000-byte file is the whole file as a 206',
    async (range) => {
      const size = fx.segment.length;
      const r = await raw(srv.url, '/media/out1/lr/seg0.ts', { headers: { Range: range } });
      expect(r.status).toBe(206);
      expect(r.headers['content-range']).toBe(`bytes 0-${size - 1}/${size}`);
      expect(r.body.equals(fx.segment)).toBe(true);
    },
  );

  it('a zero-length suffix and any suffix of an empty file are unsatisfiable', async () => {
    expect((await raw(srv.url, '/media/out1/lr/seg0.ts', { headers: { Range: 'bytes=-0' } })).status).toBe(416);
    const empty = await raw(srv.url, '/media/out1/empty.ts', { headers: { Range: 'bytes=-5' } });
    expect(empty.status).toBe(416);
    expect(empty.headers['content-range']).toBe('bytes */0');
  });

  it('a suffix that overlaps another range joins it', async () => {
    const size = fx.segment.length;
    const r = await raw(srv.url, '/media/out1/lr/seg0.ts', { headers: { Range: 'bytes=9000-9500, -1000' } });
    expect(r.status).toBe(206);
    expect(r.headers['content-range']).toBe(`bytes 9000-${size - 1}/${size}`);
  });
});
