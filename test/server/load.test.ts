import { writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/app.js';
import { makeFixture, pattern, type Fixture } from './fixture.js';

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

describe('load', () => {
  it('answers a burst of 200 concurrent segment requests, every byte right', async () => {
    const N = 200;
    const t0 = performance.now();
    const results = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const ranged = i % 4 === 3;
        const res = await fetch(`${srv.url}media/out1/lr/seg0.ts`, { headers: ranged ? { Range: 'bytes=100-1099' } : {} });
        return { status: res.status, body: Buffer.from(await res.arrayBuffer()), ranged };
      }),
    );
    const ms = performance.now() - t0;
    for (const r of results) {
      expect(r.status).toBe(r.ranged ? 206 : 200);
      expect(r.body.equals(r.ranged ? fx.segment.subarray(100, 1100) : fx.segment)).toBe(true);
    }
    process.stdout.write(`200 concurrent segment requests: ${ms.toFixed(0)} ms\n`);
  });
});

describe('close', () => {
  it('lets an in-flight response finish, drops idle keep-alive sockets, then stops listening', async () => {
    const big = pattern(8 * 1024 * 1024, 7);
    writeFileSync(path.join(fx.out1, 'lr', 'big.ts'), big);
    const own = await startServer({ root: fx.root, port: 0, host: '127.0.0.1', graceMs: 20_000 });
    const u = new URL(own.url);
    const agent = new http.Agent({ keepAlive: true });
    const downloadAgent = new http.Agent({ keepAlive: true });

    // An idle keep-alive connection: one finished request, socket left open in the agent.
    await new Promise<void>((resolve, reject) => {
      http.get({ host: u.hostname, port: u.port, path: '/api/outputs', agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      }).on('error', reject);
    });

    // A slow download: headers arrive, then the body is read only after close() was called.
    const received: Buffer[] = [];
    let resStream: http.IncomingMessage | null = null;
    await new Promise<void>((resolve, reject) => {
      // Keep-alive too: once its response ends, its socket turns idle and must be closed as well.
      http.get({ host: u.hostname, port: u.port, path: '/media/out1/lr/big.ts', agent: downloadAgent }, (res) => {
        resStream = res;
        res.pause();
        resolve();
      }).on('error', reject);
    });
    const t0 = performance.now();
    let closed = false;
    const closing = own.close().then(() => { closed = true; });

    // New connections are refused once close() has begun.
    await expect(fetch(`${own.url}api/outputs`)).rejects.toThrow();
    expect(closed).toBe(false);

    const done = new Promise<void>((resolve, reject) => {
      resStream!.on('data', (c: Buffer) => received.push(c));
      resStream!.on('end', resolve);
      resStream!.on('error', reject);
    });
    resStream!.resume();
    await done;
    const t1 = performance.now();
    await closing;
    expect(Buffer.concat(received).equals(big)).toBe(true);
    // It waited for the download, not for the 5 s keep-alive timeout or the 20 s grace period.
    expect(performance.now() - t1).toBeLessThan(3_000);
    expect(performance.now() - t0).toBeLessThan(10_000);
    agent.destroy();
    downloadAgent.destroy();
  });
});
