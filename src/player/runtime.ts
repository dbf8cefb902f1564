import { kernelPlan } from './kernels/open.js';
import type { KernelPlan } from './kernels/plan.js';
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
 * What runs a model: with 'auto', the player's own kernels (src/player/kernels/) when its graph is
 * of the project's upscaler pattern, so that onnxruntime-web is never downloaded for it; any
 * other graph, or `runtime: 'onnxruntime-web'`, goes to onnxruntime-web.
 */
export function chooseRuntime(choice: RuntimeChoice | undefined, bytes: Uint8Array): { plan: KernelPlan } | { problem: string } {
  if (choice === 'onnxruntime-web') return { problem: 'onnxruntime-web requested' };
  return kernelPlan(bytes);
}

/**
 * onnxruntime-web, imported only once a model that needs it is to be run. The WASM-only build is
 * imported when WebGPU will not be tried, so a browser without WebGPU never downloads the WebGPU
 * one.
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
