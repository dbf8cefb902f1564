/**
 * `npm run bench:player`: milliseconds per upscaled frame in the browser player, headless
 * Chromium, WASM, for LR 320x180 -> 640x360 and 480x270 -> 960x540, on the same model and frames
 * with the player's own WASM kernel (runtime 'auto'; its relaxed-SIMD build, the default in
 * Chromium, and its plain SIMD build, `relaxedSimd: false`) and with onnxruntime-web, each with its
 * default threads (the page is cross-origin isolated) and on one thread, one after the other. Measured through the real plugin (HcdUpscaler.attach on a playing
 * <video>): WebCodecs frame grab, shared/yuv.ts conversion, onnxruntime-web, canvas draw, with
 * the median of each stage (grab: frame -> tensor, infer: the network incl. the proxy worker's
 * round trip, draw: output -> canvas).
 * Uses models/hcd-x2/ when it has been trained, else a stand-in of the upscaler budget.
 * The last lines are onnxruntime-web's medians and the own kernel's ratio to them per size, then
 * `player_ms_320x180=<ms>` and `player_ms_480x270=<ms>`: the own kernel's medians (the default).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { buildPlayer } from '../src/player/build.js';
import type { LastDraw, StageMs } from '../src/player/types.js';
import { PairManifest, parseManifest, type UpscalerManifest } from '../src/shared/manifest.js';
import { makeSample } from '../samples/make-sample.js';
import { chromiumMissing, launchChromium, playerMounts, ROOT, serveStatic } from '../test/helpers/browser.js';
import { encodeLevel } from '../test/player/fixture.js';
import { buildStandInX2 } from '../test/player/models.js';

const SIZES: [number, number][] = [
  [320, 180],
  [480, 270],
];
const SECONDS_PER_SIZE = Number(process.env.BENCH_SECONDS ?? 8);

const PAGE = `<!doctype html><html><head><meta charset="utf-8"></head><body>
<video id="v" muted playsinline loop></video><canvas id="c"></canvas>
<script type="module">
import { HcdUpscaler } from '/player/hcd-player.js';
window.bench = async (src, runtime, numThreads, relaxedSimd) => {
  const video = document.getElementById('v');
  const canvas = document.getElementById('c');
  const up = HcdUpscaler.attach(video, { modelUrl: '/upscaler/manifest.json', canvas, backend: 'wasm', adaptive: false, wasmPaths: '/ort/', runtime, numThreads, relaxedSimd });
  const backend = new Promise((r) => up.on('backend', (_e, b) => r(b)));
  const fallbacks = [];
  up.on('fallback', (_e, f) => { fallbacks.push(f.reason); console.log('fallback: ' + f.reason); });
  video.src = src;
  await video.play();
  await up.ready;
  window.up = up;
  const { runtime: ran, simd } = fallbacks.length ? {} : await backend;
  return { fallbacks, ran: simd ? ran + ', ' + simd + ' SIMD' : ran, isolated: crossOriginIsolated, threads: navigator.hardwareConcurrency };
};
window.ready = true;
</script></body></html>`;

/** The upscaler to measure, written into `site/upscaler/`; returns what it is. */
function writeModel(site: string): string {
  const dir = join(site, 'upscaler');
  mkdirSync(dir, { recursive: true });
  const pairDir = join(ROOT, 'models/hcd-x2');
  const pairManifest = join(pairDir, 'manifest.json');
  let m: UpscalerManifest;
  let what: string;
  if (existsSync(pairManifest)) {
    const pair = parseManifest(PairManifest, JSON.parse(readFileSync(pairManifest, 'utf8')), pairManifest);
    if (pair.scale !== 2) throw new Error(`models/hcd-x2 has scale ${pair.scale}, the benchmark sizes are x2`);
    copyFileSync(join(pairDir, pair.upscaler.file), join(dir, 'u.onnx'));
    m = {
      id: pair.id,
      scale: pair.scale,
      model: 'u.onnx',
      input: pair.upscaler.input,
      output: pair.upscaler.output,
      range: pair.upscaler.range,
      colour: 'bt709-limited',
      params: pair.upscaler.params,
      macsPerPixel: pair.upscaler.macsPerPixel,
      receptiveRadius: 8,
    };
    what = `models/hcd-x2 upscaler (${pair.upscaler.params} params)`;
  } else {
    const s = buildStandInX2();
    writeFileSync(join(dir, 'u.onnx'), s.bytes);
    m = {
      id: 'stand-in-x2',
      scale: 2,
      model: 'u.onnx',
      input: 'lr',
      output: 'hr',
      range: '0-1',
      colour: 'bt709-limited',
      params: s.params,
      macsPerPixel: s.macsPerPixel,
      receptiveRadius: s.radius,
    };
    what = `stand-in x2 upscaler (models/hcd-x2 not trained yet): FSRCNN-class, ${s.params} params, ${s.macsPerPixel} MACs per output pixel`;
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m, null, 2));
  return what;
}

/** What runs the network in one measurement. */
interface Config {
  key: 'kernels' | 'kernels1' | 'plain' | 'plain1' | 'ort' | 'ort1';
  label: string;
  runtime: 'auto' | 'onnxruntime-web';
  numThreads?: number;
  relaxedSimd?: boolean;
}
const CONFIGS: Config[] = [
  { key: 'kernels', label: 'own WASM kernel (default threads: min(4, cores) workers)', runtime: 'auto' },
  { key: 'ort', label: 'onnxruntime-web WASM (default threads, proxy worker)', runtime: 'onnxruntime-web' },
  { key: 'kernels1', label: 'own WASM kernel (1 thread: the page\'s)', runtime: 'auto', numThreads: 1 },
  { key: 'plain', label: 'own WASM kernel, plain SIMD (default threads)', runtime: 'auto', relaxedSimd: false },
  { key: 'plain1', label: 'own WASM kernel, plain SIMD (1 thread)', runtime: 'auto', numThreads: 1, relaxedSimd: false },
  { key: 'ort1', label: 'onnxruntime-web WASM (1 thread, proxy worker)', runtime: 'onnxruntime-web', numThreads: 1 },
];

interface BenchInfo {
  fallbacks: string[];
  ran?: string;
  isolated: boolean;
  threads: number;
}

/** Median ms per upscaled frame of the w x h clip on one runtime, printed with its stages. */
async function measure(browser: Browser, url: string, w: number, h: number, c: Config): Promise<number> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  if (process.env.BENCH_DEBUG) page.on('console', (m) => console.log('console:', m.text()));
  await page.goto(`${url}/index.html`);
  await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
  const info = await page.evaluate(
    ([src, runtime, threads, relaxed]) => (window as unknown as { bench(s: string, r: string, t?: number, x?: boolean): Promise<BenchInfo> }).bench(src, runtime, threads, relaxed),
    [`/${w}x${h}.mp4`, c.runtime, c.numThreads, c.relaxedSimd] as const,
  );
  if (info.fallbacks.length) throw new Error(`the player fell back: ${info.fallbacks.join('; ')}`);
  await new Promise((r) => setTimeout(r, SECONDS_PER_SIZE * 1000));
  const r = await page.evaluate(() => {
    const up = (window as unknown as { up: { recentRunMs: number[]; recentStages: StageMs[]; stats: { backend: string; droppedFrames: number; upscaledFrames: number }; lastDraw?: LastDraw } }).up;
    return { runs: [...up.recentRunMs], stages: [...up.recentStages], stats: up.stats, last: up.lastDraw };
  });
  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
  const runs = r.runs.slice(3); // the first runs include shader/kernel warm-up
  const stages = r.stages.slice(3);
  if (runs.length < 5) throw new Error(`only ${r.runs.length} frames upscaled at ${w}x${h} in ${SECONDS_PER_SIZE}s`);
  const ms = median(runs);
  console.log(
    `${w}x${h} -> ${2 * w}x${2 * h}, ${c.label} [${info.ran}]: median ${ms.toFixed(1)} ms/frame over ${runs.length} frames ` +
      `(min ${Math.min(...runs).toFixed(1)}, max ${Math.max(...runs).toFixed(1)}), backend ${r.stats.backend}, ` +
      `cross-origin isolated ${info.isolated}, ${info.threads} cores, ${r.stats.droppedFrames} frames arrived while busy`,
  );
  const stage = (k: keyof StageMs) => median(stages.map((x) => x[k])).toFixed(1);
  console.log(
    `  stages (median ms): grab ${stage('grab')}, infer ${stage('infer')}, draw ${stage('draw')}; ` +
      `colour path ${r.last?.colourPath}, output ${r.last?.output}, fixed input shape ${r.last?.fixedShape}`,
  );
  await page.close();
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  const dir = mkdtempSync(join(tmpdir(), 'hcd-bench-player-'));
  const server = { close: async () => undefined } as { close(): Promise<void> };
  try {
    const site = join(dir, 'site');
    mkdirSync(site, { recursive: true });
    const sample = await makeSample(join(dir, 'sample.mp4'), { seconds: 4, width: 960, height: 540, fps: 24 });
    for (const [w, h] of SIZES) await encodeLevel(sample, join(site, `${w}x${h}.mp4`), w, h);
    const what = writeModel(site);
    writeFileSync(join(site, 'index.html'), PAGE);
    await buildPlayer(join(dir, 'player'));
    const srv = await serveStatic(playerMounts(join(dir, 'player'), site));
    server.close = srv.close;
    const browser = await launchChromium();
    console.log(`model: ${what}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} (${cpus().length} cores)`);
    const results: Record<string, number> = {};
    try {
      for (const [w, h] of SIZES) {
        // each runtime on the same frames, one after the other
        for (const c of CONFIGS) results[`${c.key}_${w}x${h}`] = await measure(browser, srv.url, w, h, c);
        const ratio = (a: string, b: string) => (results[`${a}_${w}x${h}`] / results[`${b}_${w}x${h}`]).toFixed(2);
        console.log(`  own WASM kernel / onnxruntime-web WASM at ${w}x${h}: ${ratio('kernels', 'ort')}x with default threads, ${ratio('kernels1', 'ort1')}x on one thread; relaxed / plain SIMD ${ratio('kernels', 'plain')}x, ${ratio('kernels1', 'plain1')}x on one thread\n`);
      }
    } finally {
      await browser.close();
    }
    console.log(`load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    for (const [w, h] of SIZES) {
      const k = `${w}x${h}`;
      console.log(`player_ms_ort_${k}=${results[`ort_${k}`].toFixed(1)}`);
      console.log(`player_ms_ort1_${k}=${results[`ort1_${k}`].toFixed(1)}`);
      console.log(`player_ms_kernel1_${k}=${results[`kernels1_${k}`].toFixed(1)}`);
      console.log(`kernel_vs_ort_${k}=${(results[`kernels_${k}`] / results[`ort_${k}`]).toFixed(2)}`);
      console.log(`kernel1_vs_ort1_${k}=${(results[`kernels1_${k}`] / results[`ort1_${k}`]).toFixed(2)}`);
      console.log(`player_ms_plain_${k}=${results[`plain_${k}`].toFixed(1)}`);
      console.log(`relaxed_vs_plain_${k}=${(results[`kernels_${k}`] / results[`plain_${k}`]).toFixed(2)}`);
    }
    console.log(`player_ms_320x180=${results['kernels_320x180'].toFixed(1)}`);
    console.log(`player_ms_480x270=${results['kernels_480x270'].toFixed(1)}`);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(`bench:player failed: ${e.message}`);
  process.exit(1);
});
