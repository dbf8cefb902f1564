import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/app.js';
import { pattern, type RawResponse } from './fixture.js';

/**
 * Many players seeking through one output while a re-encode renames new versions of its files
 * into place: no 5xx, every body is bytes of one complete version, a revalidating client never
 * keeps a version older than the one on disk when it asked, and memory and descriptors stay flat.
 */
const SOAK_MS = 8_000;
const SEEKERS = 12;
const REVALIDATORS = 4;
const FILES = ['lr/seg0.ts', 'lr/seg1.ts', 'lr/seg2.ts', 'lr/index.m3u8', 'upscaler/model.onnx'];
const MB = 1024 * 1024;

let base: string;
let out: string;
let srv: RunningServer;

/**
 * Version v of a file: bytes of its own and a size of its own (7919 is prime to 40000, so the
 * size names the version), so a mix of two versions can never pass for one. Regenerated when
 * needed rather than kept, so that the test's own bookkeeping does not grow the heap.
 */
const sizeOf = (v: number): number => 24_000 + ((v * 7_919) % 40_000);
const versionBySize = new Map<number, number>();
const recent = new Map<string, Buffer>();

function versionBytes(file: string, v: number): Buffer {
  const key = `${file}@${v}`;
  let b = recent.get(key);
  if (!b) {
    b = pattern(sizeOf(v), FILES.indexOf(file) * 100_000 + v);
    recent.set(key, b);
    if (recent.size > 64) recent.delete(recent.keys().next().value!);
  }
  return b;
}

/** How many versions each file has had, and the newest one whose rename has completed. */
const made = new Map<string, number>(FILES.map((f) => [f, 1]));
const current = new Map<string, number>(FILES.map((f) => [f, 0]));

beforeAll(async () => {
  base = mkdtempSync(path.join(os.tmpdir(), 'hcd-soak-'));
  out = path.join(base, 'clip');
  for (const d of ['lr', 'upscaler']) mkdirSync(path.join(out, d), { recursive: true });
  writeFileSync(path.join(out, 'master.m3u8'), '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nlr/index.m3u8\n');
  versionBySize.set(sizeOf(0), 0);
  for (const f of FILES) writeFileSync(path.join(out, f), versionBytes(f, 0));
  srv = await startServer({ root: base, port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await srv?.close();
  if (base) rmSync(base, { recursive: true, force: true });
});

function get(agent: http.Agent, file: string, headers: Record<string, string>): Promise<RawResponse> {
  const u = new URL(srv.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: `/media/clip/${file}`, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)];

/** The encoder's way: the whole new version under a temp name, then one rename over the old. */
async function writer(until: number, stats: { rewrites: number }): Promise<void> {
  while (Date.now() < until) {
    const file = pick(FILES);
    const v = made.get(file)!;
    made.set(file, v + 1);
    versionBySize.set(sizeOf(v), v);
    const bytes = versionBytes(file, v);
    const target = path.join(out, file);
    await writeFile(`${target}.${v}.tmp`, bytes);
    await rename(`${target}.${v}.tmp`, target);
    current.set(file, v);
    stats.rewrites++;
    await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
  }
}

/** Which version a (possibly partial) body is from, or -1 when it is from none. */
function versionOf(file: string, r: RawResponse): number {
  const cr = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(r.headers['content-range'] ?? '');
  const size = r.status === 206 && cr ? Number(cr[3]) : r.body.length;
  const v = versionBySize.get(size);
  if (v === undefined || v >= made.get(file)!) return -1;
  const full = versionBytes(file, v);
  if (r.status === 200) return full.equals(r.body) ? v : -1;
  return cr && full.subarray(Number(cr[1]), Number(cr[2]) + 1).equals(r.body) ? v : -1;
}

function randomRange(): string {
  const start = Math.floor(Math.random() * 30_000);
  switch (Math.floor(Math.random() * 3)) {
    case 0:
      return `bytes=${start}-${start + Math.floor(Math.random() * 20_000)}`;
    case 1:
      return `bytes=${start}-`;
    default:
      return `bytes=-${1 + Math.floor(Math.random() * 70_000)}`;
  }
}

async function seeker(until: number, failures: string[], counts: Map<number, number>): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    while (Date.now() < until) {
      const file = pick(FILES);
      const r = await get(agent, file, Math.random() < 0.8 ? { Range: randomRange() } : {});
      counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
      if (r.status >= 500) failures.push(`${file}: ${r.status}`);
      else if ((r.status === 200 || r.status === 206) && versionOf(file, r) < 0) failures.push(`${file}: ${r.status} body of no version`);
      else if (r.status !== 200 && r.status !== 206 && r.status !== 416) failures.push(`${file}: unexpected ${r.status}`);
    }
  } finally {
    agent.destroy();
  }
}

/** A player cache: keeps one body per file and revalidates it with If-None-Match. */
async function revalidator(until: number, failures: string[], stats: { notModified: number; refreshed: number }): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const cache = new Map<string, { etag: string; version: number }>();
  try {
    while (Date.now() < until) {
      const file = pick(FILES);
      const onDisk = current.get(file)!;
      const held = cache.get(file);
      const r = await get(agent, file, held ? { 'If-None-Match': held.etag } : {});
      let version: number;
      if (r.status === 304 && held) {
        version = held.version;
        stats.notModified++;
      } else if (r.status === 200) {
        version = versionOf(file, r);
        if (version < 0) failures.push(`${file}: revalidation body of no version`);
        cache.set(file, { etag: r.headers.etag as string, version });
        stats.refreshed++;
      } else {
        failures.push(`${file}: revalidation got ${r.status}`);
        continue;
      }
      if (version < onDisk) failures.push(`${file}: kept version ${version} after version ${onDisk} was in place`);
    }
  } finally {
    agent.destroy();
  }
}

const openDescriptors = (): number => readdirSync('/proc/self/fd').length;

describe('soak', () => {
  it(`${SEEKERS} seekers and ${REVALIDATORS} revalidators for ${SOAK_MS / 1000} s while files are renamed over`, { timeout: 60_000 }, async () => {
    const failures: string[] = [];
    const counts = new Map<number, number>();
    const stats = { rewrites: 0, notModified: 0, refreshed: 0 };
    // A short warm-up so that the baseline includes the server's and the agents' steady state.
    await Promise.all([seeker(Date.now() + 500, failures, counts), revalidator(Date.now() + 500, failures, stats)]);
    const fds0 = openDescriptors();
    const mem0 = process.memoryUsage();
    const until = Date.now() + SOAK_MS;
    const samples: NodeJS.MemoryUsage[] = [];
    const sampler = setInterval(() => samples.push(process.memoryUsage()), 250);
    await Promise.all([
      writer(until, stats),
      ...Array.from({ length: SEEKERS }, () => seeker(until, failures, counts)),
      ...Array.from({ length: REVALIDATORS }, () => revalidator(until, failures, stats)),
    ]);
    clearInterval(sampler);
    await new Promise((r) => setTimeout(r, 200));
    const fds1 = openDescriptors();
    const peak = samples.reduce((m, x) => ({ rss: Math.max(m.rss, x.rss), heapUsed: Math.max(m.heapUsed, x.heapUsed) }), { rss: 0, heapUsed: 0 });
    const quarter = Math.max(1, Math.floor(samples.length / 4));
    const mean = (xs: NodeJS.MemoryUsage[]) => xs.reduce((a, x) => a + x.heapUsed, 0) / xs.length;
    const heapTrend = mean(samples.slice(-quarter)) - mean(samples.slice(0, quarter));
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    process.stdout.write(
      `soak: ${total} ranged/plain requests ${JSON.stringify(Object.fromEntries(counts))}, ${stats.refreshed + stats.notModified} revalidations (${stats.notModified} 304), ${stats.rewrites} rewrites; ` +
        `rss ${(mem0.rss / MB).toFixed(0)} -> peak ${(peak.rss / MB).toFixed(0)} MB, heap ${(mem0.heapUsed / MB).toFixed(0)} -> peak ${(peak.heapUsed / MB).toFixed(0)} MB, heap trend ${(heapTrend / MB).toFixed(1)} MB, fds ${fds0} -> ${fds1}\n`,
    );
    expect(failures.slice(0, 10)).toEqual([]);
    expect(total).toBeGreaterThan(200);
    expect(stats.rewrites).toBeGreaterThan(20);
    expect(stats.notModified).toBeGreaterThan(0);
    // Generous: GC runs when it likes. A per-request leak of bodies or streams would exceed it.
    expect(peak.heapUsed - mem0.heapUsed).toBeLessThan(96 * MB);
    expect(peak.rss - mem0.rss).toBeLessThan(192 * MB);
    expect(heapTrend).toBeLessThan(48 * MB);
    // A leaked file handle per request would show here within a few hundred requests.
    expect(fds1).toBeLessThanOrEqual(fds0 + 8);
  });
});
