/**
 * `npm run bench -- client-bytes`: the bytes a first-time viewer downloads before the first
 * upscaled frame. The demo page is loaded through `hcd serve`'s app in headless Chromium with an
 * empty cache, once with WebGPU (SwiftShader) and once without, each with the server's
 * compression on and off; the encoded response bytes are counted per kind of file until the
 * canvas shows a neural frame. Each is done for the fixture's model, which the player's own kernels
 * run (no onnxruntime-web file may be requested: the benchmark fails if one is), and for the same
 * network ending in an Identity, outside their pattern, which onnxruntime-web runs (its WebGPU
 * build with WebGPU, else its WASM-only build). For the runtime files
 * it also prints what node:zlib makes of them (gzip -6; brotli at quality 4, what the server
 * sends; brotli 11, what a precompressed copy would be).
 * The page loads the lean hls.js of the player's build (src/player/build-hls.ts), as `hcd serve`
 * does; the full hls.min.js's gzip size is printed beside it.
 * The last lines are `client_bytes_<path>_<runtime>_<compression>=<runtime bytes>`.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { buildPlayer } from '../src/player/build.js';
import { startServer } from '../src/server/app.js';
import { installedRuntime } from '../src/server/runtime.js';
import { chromiumMissing, launchChromium } from '../test/helpers/browser.js';
import { makeFixture } from '../test/player/fixture.js';
import { buildX2Upscaler } from '../test/player/models.js';

type Kind = 'player' | 'onnxruntime-web' | 'hls.js' | 'page' | 'model' | 'media' | 'api';
const RUNTIME: Kind[] = ['player', 'onnxruntime-web', 'hls.js'];

interface Fetched {
  path: string;
  kind: Kind;
  /** Encoded body bytes, as they came over the wire. */
  body: number;
  headers: number;
  encoding: string;
}

interface Load {
  fetched: Fetched[];
  backend: string;
  ms: number;
}

function kindOf(path: string): Kind {
  if (path.startsWith('/vendor/') || /^\/player\/hls\./.test(path)) return 'hls.js';
  if (path.startsWith('/player/')) return 'player';
  if (path.startsWith('/ort/')) return 'onnxruntime-web';
  if (path.startsWith('/api/')) return 'api';
  if (/^\/media\/[^/]+\/upscaler\//.test(path)) return 'model';
  if (path.startsWith('/media/')) return 'media';
  return 'page';
}

/** One first visit: a fresh browser context (empty cache) until the first neural frame. */
async function firstVisit(browser: Browser, url: string): Promise<Load> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const pending: Promise<Fetched | undefined>[] = [];
  page.on('requestfinished', (req) => {
    if (!req.url().startsWith('http')) return; // blob: workers are made on the page, not downloaded
    pending.push(
      (async () => {
        const [sizes, res] = await Promise.all([req.sizes(), req.response()]);
        const path = new URL(req.url()).pathname;
        // a worker's second request for a file the page already has comes from the cache: no body on the wire
        if (sizes.responseBodySize < 0) return undefined;
        return { path, kind: kindOf(path), body: sizes.responseBodySize, headers: sizes.responseHeadersSize, encoding: res?.headers()['content-encoding'] ?? 'identity' };
      })().catch(() => undefined),
    );
  });
  const t0 = performance.now();
  await page.goto(url);
  await page.waitForFunction(
    () => {
      const up = (window as unknown as { hcdDemo?: { up?: { lastDraw?: { kind: string } } } }).hcdDemo?.up;
      return up?.lastDraw?.kind === 'neural';
    },
    undefined,
    { timeout: 600_000, polling: 100 },
  );
  const ms = performance.now() - t0;
  const done = pending.length; // what had arrived when the first neural frame was on the canvas
  const backend = await page.evaluate(() => (window as unknown as { hcdDemo: { up: { stats: { backend: string } } } }).hcdDemo.up.stats.backend);
  const fetched = (await Promise.all(pending.slice(0, done))).filter((f): f is Fetched => !!f);
  await context.close();
  return { fetched, backend, ms };
}

const sum = (xs: Fetched[]) => xs.reduce((n, f) => n + f.body, 0);
const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const mb = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(2)} MiB` : kb(n));

function printLoad(name: string, compress: boolean, l: Load): number {
  const by = (k: Kind) => l.fetched.filter((f) => f.kind === k);
  const runtime = sum(l.fetched.filter((f) => RUNTIME.includes(f.kind)));
  console.log(`\n${name}, compression ${compress ? 'on' : 'off'}: backend ${l.backend}, first neural frame after ${(l.ms / 1000).toFixed(1)} s`);
  for (const k of ['player', 'onnxruntime-web', 'hls.js', 'page', 'api', 'model', 'media'] as Kind[]) {
    const fs = by(k);
    if (fs.length === 0) continue;
    const files = fs.map((f) => `${f.path.split('/').pop() || '/'}${f.encoding !== 'identity' ? ` (${f.encoding})` : ''} ${mb(f.body)}`);
    console.log(`  ${k.padEnd(16)} ${mb(sum(fs)).padStart(10)}   ${k === 'media' ? `${fs.length} files` : files.join(', ')}`);
  }
  console.log(`  ${'runtime total'.padEnd(16)} ${mb(runtime).padStart(10)}   (player + onnxruntime-web + hls.js)`);
  console.log(`  ${'everything'.padEnd(16)} ${mb(sum(l.fetched)).padStart(10)}   (+ ${mb(l.fetched.reduce((n, f) => n + f.headers, 0))} of headers)`);
  return runtime;
}

/** node:zlib's sizes of the runtime files a load requested, read from disk. */
function printZlib(name: string, l: Load, fileOf: (path: string) => string | undefined): void {
  const files = [...new Set(l.fetched.filter((f) => RUNTIME.includes(f.kind)).map((f) => f.path))];
  const totals = { identity: 0, gzip: 0, br4: 0, br11: 0 };
  const gzipByKind = new Map<Kind, number>();
  for (const p of files) {
    const file = fileOf(p);
    if (!file) continue;
    const bytes = readFileSync(file);
    totals.identity += bytes.length;
    const gz = gzipSync(bytes, { level: 6 }).length;
    totals.gzip += gz;
    gzipByKind.set(kindOf(p), (gzipByKind.get(kindOf(p)) ?? 0) + gz);
    totals.br4 += brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } }).length;
    // quality 11 takes minutes on the 28 MB WebGPU binary; the big binaries are estimated at quality 9
    totals.br11 += brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: bytes.length > 4e6 ? 9 : 11 } }).length;
  }
  console.log(`  node:zlib over the same ${files.length} runtime files: identity ${mb(totals.identity)}, gzip -6 ${mb(totals.gzip)}, brotli 4 ${mb(totals.br4)}, brotli 11 (9 for binaries over 4 MB) ${mb(totals.br11)}  [${name}]`);
  console.log(`  gzip -6 by kind: ${[...gzipByKind].map(([k, n]) => `${k} ${mb(n)} (${n} B)`).join(', ')}`);
}

async function main(): Promise<void> {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  const dir = mkdtempSync(join(tmpdir(), 'hcd-bench-bytes-'));
  try {
    const fx = await makeFixture(join(dir, 'out'));
    const playerDir = join(dir, 'player');
    await buildPlayer(playerDir);
    const rt = installedRuntime();
    const fileOf = (p: string): string | undefined => {
      const name = p.split('/').pop() ?? '';
      if (p.startsWith('/ort/')) return join(rt.ortDir, name);
      if (p.startsWith('/vendor/')) return join(rt.hlsDir, name);
      if (p.startsWith('/player/')) return join(playerDir, name);
      return undefined;
    };
    // the same output with a model the own kernels do not take
    const ortRoot = join(dir, 'out-ort');
    cpSync(fx.dir, ortRoot, { recursive: true });
    writeFileSync(join(ortRoot, 'upscaler/x2.onnx'), buildX2Upscaler({ outsidePattern: true }).bytes);
    const results: string[] = [];
    for (const path of [{ name: 'wasm', webgpu: false }, { name: 'webgpu', webgpu: true }]) {
      const browser = await launchChromium({ webgpu: path.webgpu });
      try {
        for (const [runtime, root] of [['kernels', fx.dir], ['onnxruntime-web', ortRoot]] as const) {
          for (const compress of [true, false]) {
            const server = await startServer({ root, playerDir, port: 0, host: '127.0.0.1', compress });
            try {
              const l = await firstVisit(browser, `${server.url}?backend=auto`);
              const name = `${path.name}, ${runtime === 'kernels' ? "the player's own kernels" : 'onnxruntime-web'}`;
              const bytes = printLoad(name, compress, l);
              if (compress) printZlib(name, l, fileOf);
              const ortFiles = l.fetched.filter((f) => f.kind === 'onnxruntime-web');
              if (runtime === 'kernels' && ortFiles.length) throw new Error(`the own kernels' path requested onnxruntime-web: ${ortFiles.map((f) => f.path).join(', ')}`);
              results.push(`client_bytes_${path.name}_${runtime === 'kernels' ? 'kernels' : 'ort'}_${compress ? 'compressed' : 'identity'}=${bytes}`);
            } finally {
              await server.close();
            }
          }
        }
      } finally {
        await browser.close();
      }
    }
    const full = gzipSync(readFileSync(join(rt.hlsDir, 'hls.min.js')), { level: 6 }).length;
    console.log(`\nhls.js's full build (hls.min.js), for comparison: gzip -6 ${mb(full)} (${full} B)`);
    console.log('');
    for (const r of results) console.log(r);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(`client-bytes: ${e.message}`);
  process.exit(1);
});
