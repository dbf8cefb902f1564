/**
 * `npm run build:player`: bundles the plugin to dist/player/hcd-player.js (ESM, minified, with a
 * source map), a copy named by its content hash for pages that cache it for good, its type
 * declarations (dist/player/types/, the package's `hcd-stream/player` entry), and copies the
 * onnxruntime-web files a page needs beside it (dist/player/ort/), so that serving dist/player/
 * is enough: wasmPaths '/player/ort/' (or wherever it is mounted). It also writes the lean hls.js
 * the demo page loads (build-hls.ts).
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildLeanHls, LEAN_HLS_FILE } from './build-hls.js';
import { cachedBuild } from './build-cache.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');

/** The onnxruntime-web files a page loads: the WebGPU (JSEP) build, and the smaller WASM-only one. */
export const ORT_FILES = {
  webgpu: ['ort.min.mjs', 'ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm'],
  wasm: ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'],
};

/** What `build:player` wrote, for servers that link the hashed bundle (dist/player/player.json). */
export interface PlayerBuildInfo {
  /** The bundle's file name with its content hash. */
  bundle: string;
  /** The onnxruntime-web version the files in ort/ are from. */
  onnxruntimeWeb: string;
  /** The lean hls.js build's file name with its content hash (build-hls.ts). */
  hls: string;
}

export const BUILD_INFO = 'player.json';
const HASHED = /^hcd-player\.[0-9a-f]{10}\.js$/;

export function ortDistDir(): string {
  const require = createRequire(import.meta.url);
  // the package's exports hide package.json; its dist folder sits next to the node entry
  return dirname(require.resolve('onnxruntime-web'));
}

export function ortVersion(): string {
  return (JSON.parse(readFileSync(join(ortDistDir(), '..', 'package.json'), 'utf8')) as { version: string }).version;
}

export interface BuildResult {
  bundle: string;
  bytes: number;
  /** The content-hashed copy. */
  hashed: string;
}

const KERNEL_SOURCE = join(root, 'src/player/kernels/wasm-kernel.as');

/** The kernel's builds: own memory or the threads' shared one, each with and without relaxed SIMD. */
export interface KernelBuild {
  shared?: boolean;
  /** Fused multiply-add (relaxed SIMD); the player uses it where the browser validates it. */
  relaxed?: boolean;
}

/**
 * The player's WASM kernel (src/player/kernels/wasm-kernel.as) compiled by AssemblyScript, cached
 * by its source's hash (a compile takes seconds, and every test build needs it). `shared`: the
 * build for worker threads, importing a shared memory (src/player/kernels/threads.ts).
 */
export async function compileKernel(b: KernelBuild = {}): Promise<Uint8Array<ArrayBuffer>> {
  const source = readFileSync(KERNEL_SOURCE, 'utf8');
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  return cachedBuild(`hcd-kernel-${hash}${b.shared ? '-shared' : ''}${b.relaxed ? '-relaxed' : ''}.wasm`, async () => {
    const { default: asc } = await import('assemblyscript/asc');
    const simd = b.relaxed ? ['simd', 'relaxed-simd'] : ['simd'];
    // the stub runtime: the kernel allocates nothing, the player lays out its memory
    const options = { optimizeLevel: 3, shrinkLevel: 0, runtime: 'stub', noAssert: true, enable: simd };
    const threads = { enable: [...simd, 'threads'], importMemory: true, sharedMemory: true, initialMemory: 1, maximumMemory: 16384 };
    const res = await asc.compileString({ 'kernel.ts': source }, b.shared ? { ...options, ...threads } : options);
    if (res.error || !res.binary) throw new Error(`compiling ${KERNEL_SOURCE}: ${res.error?.message}\n${res.stderr.toString()}`);
    return res.binary;
  });
}

async function bundle(outDir: string, minify: boolean): Promise<string> {
  const [own, shared, ownRelaxed, sharedRelaxed] = await Promise.all([compileKernel(), compileKernel({ shared: true }), compileKernel({ relaxed: true }), compileKernel({ shared: true, relaxed: true })]);
  const base64 = (b: Uint8Array) => JSON.stringify(Buffer.from(b).toString('base64'));
  const out = join(outDir, 'hcd-player.js');
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
      // the WASM kernel inside the bundle: no extra request, no path to configure
      define: {
        __HCD_KERNEL_WASM__: base64(own),
        __HCD_KERNEL_WASM_SHARED__: base64(shared),
        __HCD_KERNEL_WASM_RELAXED__: base64(ownRelaxed),
        __HCD_KERNEL_WASM_SHARED_RELAXED__: base64(sharedRelaxed),
      },
      minify,
      sourcemap: true,
      outfile: join(tmpDir, 'hcd-player.js'),
      logLevel: 'silent',
    });
    renameSync(join(tmpDir, 'hcd-player.js.map'), `${out}.map`);
    renameSync(join(tmpDir, 'hcd-player.js'), out);
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
  return out;
}

/** A copy named by the bundle's hash and the lean hls.js (older ones removed), and player.json naming them. */
async function hashedCopies(outDir: string, bundlePath: string): Promise<string> {
  const name = `hcd-player.${createHash('sha256').update(readFileSync(bundlePath)).digest('hex').slice(0, 10)}.js`;
  const hls = await buildLeanHls(outDir);
  for (const f of readdirSync(outDir)) if ((HASHED.test(f) && f !== name) || (LEAN_HLS_FILE.test(f) && f !== hls)) rmSync(join(outDir, f));
  copyFileSync(bundlePath, join(outDir, name));
  const info: PlayerBuildInfo = { bundle: name, onnxruntimeWeb: ortVersion(), hls };
  writeFileSync(join(outDir, BUILD_INFO), `${JSON.stringify(info, null, 2)}\n`);
  return join(outDir, name);
}

/** Type declarations of src/player (and the src/shared files it uses) into `outDir`/types/. */
export async function emitTypes(outDir: string): Promise<void> {
  const ts = await import('typescript');
  const options = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
    types: [],
    strict: true,
    skipLibCheck: true,
    declaration: true,
    emitDeclarationOnly: true,
    rootDir: join(root, 'src'),
    outDir: join(outDir, 'types'),
  };
  rmSync(join(outDir, 'types'), { recursive: true, force: true });
  const program = ts.createProgram([join(root, 'src/player/index.ts')], options);
  const res = program.emit();
  const errors = [...ts.getPreEmitDiagnostics(program), ...res.diagnostics].filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length) throw new Error(ts.formatDiagnostics(errors, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' }));
}

export async function buildPlayer(outDir = join(root, 'dist/player'), opts: { minify?: boolean; types?: boolean } = {}): Promise<BuildResult> {
  mkdirSync(outDir, { recursive: true });
  const out = await bundle(outDir, opts.minify ?? true);
  const hashed = await hashedCopies(outDir, out);
  if (opts.types) await emitTypes(outDir);
  const ortOut = join(outDir, 'ort');
  mkdirSync(ortOut, { recursive: true });
  for (const f of [...ORT_FILES.webgpu, ...ORT_FILES.wasm]) copyFileSync(join(ortDistDir(), f), join(ortOut, f));
  return { bundle: out, bytes: statSync(out).size, hashed };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildPlayer(undefined, { types: true })
    .then((r) => console.log(`wrote ${r.bundle} (${(r.bytes / 1024).toFixed(1)} KiB), ${r.hashed}, types/ and onnxruntime-web files in ${dirname(r.bundle)}/ort/`))
    .catch((e: Error) => {
      console.error(`build:player failed: ${e.message}`);
      process.exit(1);
    });
}
