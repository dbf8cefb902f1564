/**
 * The player as an npm package: an app that imports `hcd-stream/player` (through the package's
 * own `exports`, from a node_modules folder as an install would lay it out) bundles with esbuild,
 * type-checks against the generated declarations, pulls in none of the Node side, and upscales
 * in Chromium.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlayer } from '../../src/player/build.js';
import { chromiumMissing, ROOT } from '../helpers/browser.js';
import { PlayerHarness } from './harness.js';

/** What a browser page must never get from this package. */
const NODE_SIDE = /onnxruntime-node|ffmpeg|fluent-ffmpeg|zod|commander|express|pngjs|src\/(encoder|server|compare|train|stills|cli)\//;

const APP = `
import Hls from 'hls.js';
import { HcdUpscaler, Events, upscaledCapLevelController } from 'hcd-stream/player';
window.startApp = async () => {
  const video = document.querySelector('video');
  const canvas = document.querySelector('canvas');
  const hls = new Hls({ enableWorker: false, startLevel: 0, capLevelToPlayerSize: true, capLevelController: upscaledCapLevelController(Hls.DefaultConfig.capLevelController) });
  const up = new HcdUpscaler({ hls, video, canvas, backend: 'wasm', wasmPaths: '/ort/' });
  window.backends = [];
  up.on(Events.BACKEND, (_e, b) => window.backends.push(b.backend));
  window.up = up;
  hls.attachMedia(video);
  hls.loadSource('/master.m3u8');
  await new Promise((r) => hls.once(Hls.Events.MANIFEST_PARSED, r));
  hls.currentLevel = 0;
  await video.play();
};
window.appReady = true;
`;

const CONSUMER = `
import Hls from 'hls.js';
import { HcdUpscaler, Events, upscaledCapLevelController, type HcdStats, type FallbackInfo } from 'hcd-stream/player';
const hls = new Hls({ capLevelToPlayerSize: true, capLevelController: upscaledCapLevelController(Hls.DefaultConfig.capLevelController) });
const up = new HcdUpscaler({ hls, video: document.createElement('video'), canvas: document.createElement('canvas'), runtime: 'auto' });
up.on(Events.STATS, (_e, s: HcdStats) => s.fps);
up.once('fallback', (e: 'fallback', f: FallbackInfo) => f.reason + e);
up.off(Events.STATS);
const native = HcdUpscaler.attach(document.createElement('video'), { canvas: document.createElement('canvas'), master: '/master.m3u8' });
void native.requestFullscreen();
// @ts-expect-error: no such event
up.on('frame', () => undefined);
export {};
`;

function link(nm: string, name: string): void {
  symlinkSync(join(ROOT, 'node_modules', name), join(nm, name), 'dir');
}

const missing = chromiumMissing();

describe('hcd-stream/player as a package', () => {
  let dir: string;
  let pkg: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hcd-package-'));
    const nm = join(dir, 'node_modules');
    pkg = join(nm, 'hcd-stream');
    mkdirSync(pkg, { recursive: true });
    copyFileSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
    await buildPlayer(join(pkg, 'dist/player'), { types: true });
    link(nm, 'hls.js');
    link(nm, 'onnxruntime-web');
    writeFileSync(join(dir, 'app.js'), APP);
    writeFileSync(join(dir, 'consumer.ts'), CONSUMER);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the player bundle is built from src/player and browser-safe src/shared only', async () => {
    const r = await build({ entryPoints: [join(ROOT, 'src/player/index.ts')], bundle: true, format: 'esm', platform: 'browser', write: false, metafile: true, external: ['onnxruntime-web', 'hls.js'], logLevel: 'silent' });
    const inputs = Object.keys(r.metafile.inputs);
    expect(inputs.filter((f) => !/^src\/(player|shared)\//.test(f))).toEqual([]);
    expect(inputs.filter((f) => NODE_SIDE.test(f))).toEqual([]);
    // and no import is left to resolve at run time but the two peers (onnxruntime-web is imported by URL)
    const imports = Object.values(r.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
    expect(imports).toEqual([]);
  });

  it('an app importing hcd-stream/player bundles through the package exports, with none of the Node side', async () => {
    const r = await build({ entryPoints: [join(dir, 'app.js')], absWorkingDir: dir, bundle: true, format: 'esm', platform: 'browser', outfile: join(dir, 'out/app.js'), metafile: true, logLevel: 'silent' });
    const inputs = Object.keys(r.metafile.inputs);
    expect(inputs).toContain('node_modules/hcd-stream/dist/player/hcd-player.js');
    expect(inputs.some((f) => f.includes('hls.js/dist/'))).toBe(true); // (through the symlink, so by its real path)
    expect(inputs.filter((f) => NODE_SIDE.test(f))).toEqual([]);
  });

  it('a TypeScript app type-checks against the declarations the package names', () => {
    const program = ts.createProgram([join(dir, 'consumer.ts')], {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
      types: [],
      strict: true,
      noEmit: true,
      skipLibCheck: true,
    });
    const diags = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(diags).toEqual([]);
    const resolved = program.getSourceFiles().map((f) => f.fileName).filter((f) => f.includes('hcd-stream'));
    expect(resolved).toContain(join(pkg, 'dist/player/types/player/index.d.ts'));
  });

  describe.skipIf(!!missing)('in Chromium', () => {
    const h = new PlayerHarness();
    beforeAll(async () => {
      await h.start();
      await build({ entryPoints: [join(dir, 'app.js')], absWorkingDir: dir, bundle: true, format: 'esm', platform: 'browser', outfile: join(h.fx.dir, 'pkg/app.js'), logLevel: 'silent' });
      writeFileSync(join(h.fx.dir, 'pkg.html'), '<!doctype html><meta charset="utf-8"><video muted playsinline loop></video><canvas></canvas><script type="module" src="/pkg/app.js"></script>');
    });
    afterAll(() => h.close());

    it('the bundled app plays and upscales', async () => {
      const page = await h.browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${h.server.url}/pkg.html`);
      await page.waitForFunction(() => (window as unknown as { appReady?: boolean }).appReady === true);
      await page.evaluate(() => (window as unknown as { startApp(): Promise<void> }).startApp());
      await page.waitForFunction(() => (window as unknown as { up: { lastDraw?: { kind: string } } }).up.lastDraw?.kind === 'neural', undefined, { timeout: 60_000 });
      const r = await page.evaluate(() => ({ width: document.querySelector('canvas')!.width, backends: (window as unknown as { backends: string[] }).backends }));
      expect(r).toEqual({ width: 640, backends: ['wasm'] });
      expect(errors).toEqual([]);
      await page.close();
    });
  });
});
