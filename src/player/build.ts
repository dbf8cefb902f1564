/**
 * `npm run build:player`: bundles the plugin to dist/player/hcd-player.js (ESM, minified, with a
 * source map) and copies the onnxruntime-web files a page needs beside it (dist/player/ort/), so
 * that serving dist/player/ is enough: wasmPaths '/player/ort/' (or wherever it is mounted).
 */
import { copyFileSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');

/** The onnxruntime-web files loaded at run time by `ort.min.mjs` (WebGPU + WASM build). */
export const ORT_FILES = ['ort.min.mjs', 'ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm'];

export function ortDistDir(): string {
  const require = createRequire(import.meta.url);
  // the package's exports hide package.json; its dist folder sits next to the node entry
  return dirname(require.resolve('onnxruntime-web'));
}

export interface BuildResult {
  bundle: string;
  bytes: number;
}

export async function buildPlayer(outDir = join(root, 'dist/player'), opts: { minify?: boolean } = {}): Promise<BuildResult> {
  mkdirSync(outDir, { recursive: true });
  const bundle = join(outDir, 'hcd-player.js');
  // built in a private folder and renamed, so a failed build never leaves a half-written bundle
  const tmpDir = join(outDir, `.tmp-${process.pid}`);
  try {
    await build({
      entryPoints: [join(root, 'src/player/index.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: ['chrome110', 'firefox115', 'safari17'],
      // peer dependencies: only type imports reach them, this keeps it so if that ever changes
      external: ['onnxruntime-web', 'hls.js'],
      minify: opts.minify ?? true,
      sourcemap: true,
      outfile: join(tmpDir, 'hcd-player.js'),
      logLevel: 'silent',
    });
    renameSync(join(tmpDir, 'hcd-player.js.map'), `${bundle}.map`);
    renameSync(join(tmpDir, 'hcd-player.js'), bundle);
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
  const ortOut = join(outDir, 'ort');
  mkdirSync(ortOut, { recursive: true });
  for (const f of ORT_FILES) copyFileSync(join(ortDistDir(), f), join(ortOut, f));
  return { bundle, bytes: statSync(bundle).size };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildPlayer()
    .then((r) => console.log(`wrote ${r.bundle} (${(r.bytes / 1024).toFixed(1)} KiB) and onnxruntime-web files in ${dirname(r.bundle)}/ort/`))
    .catch((e: Error) => {
      console.error(`build:player failed: ${e.message}`);
      process.exit(1);
    });
}
