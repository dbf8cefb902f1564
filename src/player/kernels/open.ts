/**
 * Opening the player's own kernels for a model: whether its graph is of the project's pattern,
 * and the engine on the chosen backend (WebGPU on a device of its own, else WASM).
 */
import type { GpuDevice } from '../gpu.js';
import type { GpuOutput, TileEngine } from '../runner.js';
import type { Backend, BackendChoice, KernelSimd } from '../types.js';
import { readOnnxGraph } from './onnx.js';
import { planKernels, type KernelPlan } from './plan.js';
import { bundledKernels, kernelThreads, WasmKernel } from './wasm.js';
import { WebGpuKernel, type ComputeDevice } from './webgpu.js';

/** The kernels' plan for an ONNX model, or why onnxruntime-web must run it. */
export function kernelPlan(bytes: Uint8Array): { plan: KernelPlan } | { problem: string } {
  try {
    return planKernels(readOnnxGraph(bytes));
  } catch (e) {
    return { problem: `the model cannot be read by the player's kernels: ${(e as Error).message}` };
  }
}

export interface OpenedKernels {
  engine: TileEngine;
  backend: Backend;
  /** The WebGPU kernels' device, for the presenter. */
  device?: GpuDevice;
  /** Why WebGPU was not used, when 'auto' ended up on WASM. */
  webgpuProblem?: string;
  /** WASM: the threads it runs on, and its build. */
  threads?: number;
  simd?: KernelSimd;
}

/** The WASM kernel as a TileEngine. */
class WasmEngine implements TileEngine {
  // nothing to warm up: no per-size compilation, and a size's buffers are laid out in microseconds
  readonly max = 0;
  constructor(private readonly k: WasmKernel) {}

  async download(x: Float32Array, w: number, h: number): Promise<{ data: Float32Array; fixed: boolean }> {
    return { data: await this.k.run(x, w, h), fixed: true };
  }

  onGpu(): Promise<GpuOutput> {
    return Promise.reject(new Error('the WASM kernel has no GPU output'));
  }

  async release(): Promise<void> {
    this.k.release();
  }
}

async function gpuDevice(): Promise<ComputeDevice> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<{ requestDevice(): Promise<ComputeDevice> } | null> } }).gpu;
  const adapter = await gpu?.requestAdapter();
  if (!adapter) throw new Error('WebGPU has no adapter');
  return adapter.requestDevice();
}

async function webgpu(plan: KernelPlan): Promise<OpenedKernels> {
  const device = await gpuDevice();
  try {
    return { engine: await WebGpuKernel.create(device, plan), backend: 'webgpu', device };
  } catch (e) {
    device.destroy();
    throw e;
  }
}

/**
 * The kernels on the chosen backend; 'auto' tries WebGPU (unless `gpuProblem` says why not),
 * then WASM. Throws if none works.
 */
export async function openKernels(plan: KernelPlan, choice: BackendChoice, gpuProblem?: string, wasm: { numThreads?: number; relaxedSimd?: boolean } = {}): Promise<OpenedKernels> {
  let webgpuProblem: string | undefined;
  if (choice !== 'wasm') {
    webgpuProblem = gpuProblem;
    if (!webgpuProblem) {
      try {
        return await webgpu(plan);
      } catch (e) {
        webgpuProblem = `WebGPU kernels failed: ${(e as Error).message}`;
      }
    }
    if (choice === 'webgpu') throw new Error(webgpuProblem);
  }
  try {
    const builds = bundledKernels(wasm.relaxedSimd ?? true);
    const k = await WasmKernel.create(plan, kernelThreads(wasm.numThreads), builds);
    return { engine: new WasmEngine(k), backend: 'wasm', webgpuProblem, threads: k.threads, simd: builds.relaxed ? 'relaxed' : 'plain' };
  } catch (e) {
    throw new Error(`WASM kernel failed: ${(e as Error).message}`);
  }
}
