import type { Ort, RuntimeChoice } from './types.js';

/** onnxruntime-web's builds the player loads, by whether WebGPU will be tried. */
export const ORT_BUILDS = {
  /** WebGPU (JSEP) and WASM: the module and the 28 MB WASM binary it loads. */
  webgpu: 'ort.min.mjs',
  /** WASM only: about half the download. */
  wasm: 'ort.wasm.min.mjs',
} as const;

export interface RuntimeOptions {
  runtime?: RuntimeChoice;
  ort?: Ort;
  ortUrl?: string;
  wasmPaths: string;
}

/**
 * The inference runtime for this page. 'auto' means onnxruntime-web today; this is where the
 * player's own WebGPU/WASM kernels will be chosen instead, per model and browser, behind the same
 * session interface. The WASM-only build is imported when WebGPU will not be tried, so a
 * browser without WebGPU never downloads the WebGPU one; either is imported only once a model
 * is to be run.
 */
export async function loadRuntime(opts: RuntimeOptions, webgpu: boolean): Promise<Ort> {
  if (opts.ort) return opts.ort;
  const url = opts.ortUrl ?? `${opts.wasmPaths}${webgpu ? ORT_BUILDS.webgpu : ORT_BUILDS.wasm}`;
  try {
    return (await import(/* @vite-ignore */ url)) as Ort;
  } catch (e) {
    throw new Error(`cannot import onnxruntime-web from ${url}: ${(e as Error).message}`);
  }
}
