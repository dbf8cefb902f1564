/**
 * Headless Chromium for the player's tests and benchmark: a tiny static server that makes pages
 * cross-origin isolated (COOP/COEP, so WASM threads work), and a launcher for /usr/bin/chromium.
 * Deliberately independent of src/server.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Why browser tests cannot run here, or undefined when they can. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (set CHROMIUM_PATH or install chromium)`;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.map': 'application/json',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.ts': 'video/mp2t',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
  '.onnx': 'application/octet-stream',
};

export interface StaticServer {
  url: string;
  close(): Promise<void>;
  /** Paths requested so far (for checking what the page fetched). */
  requests: string[];
}

/**
 * Serves `mounts` (URL prefix -> folder), longest prefix first, with COOP/COEP/CORP headers.
 * Unknown paths are 404, paths escaping their folder are 403.
 */
export async function serveStatic(mounts: Record<string, string>): Promise<StaticServer> {
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cache-Control': 'no-store',
    };
    const prefix = prefixes.find((p) => path.startsWith(p));
    if (!prefix) {
      res.writeHead(404, headers).end('not found');
      return;
    }
    const base = resolve(mounts[prefix]);
    const file = normalize(join(base, path.slice(prefix.length)));
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(403, headers).end('forbidden');
      return;
    }
    if (!existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, headers).end('not found');
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    // 'localhost' is a secure context, which WebGPU and SharedArrayBuffer need
    url: `http://localhost:${port}`,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * Chromium, headless; `webgpu` enables WebGPU on SwiftShader (software Vulkan). With
 * `webgpuCanvas: false` the compositor is not put on SwiftShader's Vulkan too: WebGPU compute
 * still works, but drawing a WebGPU canvas loses the page's GPU devices (as on a machine where
 * canvas interop is broken), which the player must detect and avoid.
 */
export async function launchChromium(opts: { webgpu?: boolean; webgpuCanvas?: boolean } = {}): Promise<Browser> {
  const args = [
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--autoplay-policy=no-user-gesture-required',
    '--mute-audio',
  ];
  if (opts.webgpu) args.push('--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan', '--use-angle=swiftshader');
  else args.push('--disable-gpu');
  // WebGPU canvases are shared with the compositor through Vulkan: without this they lose the device
  if (opts.webgpu && opts.webgpuCanvas !== false) args.push('--use-vulkan=swiftshader');
  return chromium.launch({ executablePath: CHROMIUM, args, headless: true });
}

/** The folders the player's pages need: hls.js, onnxruntime-web and the built bundle. */
export function playerMounts(bundleDir: string, siteDir: string): Record<string, string> {
  return {
    '/hls/': join(ROOT, 'node_modules/hls.js/dist'),
    '/ort/': join(ROOT, 'node_modules/onnxruntime-web/dist'),
    '/player/': bundleDir,
    '/': siteDir,
  };
}

/**
 * The test page: loads hls.js and the bundle, and offers `window.hcdStart(opts)` which plays
 * `opts.src` on hls.js with an HcdUpscaler drawing into a canvas. Listener counts on the video
 * and on hls.js are tracked so that tests can check `destroy()` cleans up.
 */
export const PLAYER_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>hcd player test</title></head>
<body>
<video id="v" muted playsinline loop></video>
<canvas id="c"></canvas>
<script type="module">
import Hls from '/hls/hls.mjs';
import { HcdUpscaler } from '/player/hcd-player.js';
window.pageErrors = [];
window.events = [];
const video = document.getElementById('v');
const canvas = document.getElementById('c');
// live listeners on the video, so a test can tell whether the upscaler's own ones were removed
let live = [];
const add = video.addEventListener.bind(video);
const remove = video.removeEventListener.bind(video);
video.addEventListener = (type, fn, ...rest) => { live.push({ type, fn }); return add(type, fn, ...rest); };
video.removeEventListener = (type, fn, ...rest) => { live = live.filter((e) => e.type !== type || e.fn !== fn); return remove(type, fn, ...rest); };
window.hcdStart = async (opts) => {
  const hls = new Hls({ capLevelToPlayerSize: true, startLevel: opts.level ?? -1, enableWorker: false });
  const baseHls = ['hlsManifestParsed', 'hlsLevelSwitched'].map((e) => hls.listeners(e).length);
  const before = new Set(live);
  const up = new HcdUpscaler({ hls, video, canvas, backend: opts.backend ?? 'auto', adaptive: opts.adaptive ?? true, wasmPaths: '/ort/', tile: opts.tile, keepOnGpu: opts.keepOnGpu });
  for (const name of ['backend', 'fallback']) up.on(name, (_e, d) => window.events.push({ name, ...d }));
  const own = live.filter((e) => !before.has(e));
  window.videoListeners = () => own.filter((e) => live.includes(e)).length;
  window.hls = hls;
  window.up = up;
  window.hlsListeners = () => ['hlsManifestParsed', 'hlsLevelSwitched'].map((e, i) => hls.listeners(e).length - baseHls[i]);
  hls.attachMedia(video);
  hls.loadSource(opts.src);
  await new Promise((r) => hls.once('hlsManifestParsed', r));
  if (opts.level !== undefined) hls.currentLevel = opts.level;
  await video.play();
  return true;
};
window.hcdAttach = async (opts) => {
  const up = HcdUpscaler.attach(video, { canvas, modelUrl: opts.modelUrl, backend: opts.backend ?? 'wasm', statsIntervalMs: 250 });
  window.stats = [];
  up.on('stats', (_e, s) => window.stats.push(s));
  for (const name of ['backend', 'fallback']) up.on(name, (_e, d) => window.events.push({ name, ...d }));
  window.up = up;
  video.src = opts.src;
  await video.play();
  return true;
};
window.ready = true;
</script>
</body></html>`;
