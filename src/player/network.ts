import type { GpuDevice } from './gpu.js';
import { openKernels } from './kernels/open.js';
import type { KernelPlan } from './kernels/plan.js';
import { configureOrt, createSession, loadModel, webgpuUsable, type ModelInfo } from './model.js';
import { OrtEngine, Runner } from './runner.js';
import { chooseRuntime, loadRuntime } from './runtime.js';
import { SessionPool } from './sessions.js';
import type { Backend, BackendChoice, CommonOptions, KernelSimd, RuntimeName } from './types.js';

export type NetworkOptions = Pick<CommonOptions, 'backend' | 'runtime' | 'wasmPaths' | 'ort' | 'ortUrl' | 'numThreads' | 'relaxedSimd' | 'proxy' | 'tile'>;

/** An LR frame size the network will be asked for, with what its level is made for. */
export interface WarmSize {
  width: number;
  height: number;
  scale: number;
  model?: string;
}

/** Steps of opening that belong to other parts, in the order they must run. */
export interface OpenHooks {
  /** Before onnxruntime-web makes its GPU device; `webgpu`: whether a WebGPU session will be tried. */
  beforeSession(webgpu: boolean): Promise<void>;
  /** Once the session exists, before any frame uses it. `device` is the GPU device the outputs are on. */
  afterSession(backend: Backend, device: () => Promise<GpuDevice>, inScale: number): Promise<void>;
  /** The LR sizes to run once before the first frame (so that no level switch costs a slow frame). */
  warmSizes(): WarmSize[];
}

export interface Opened {
  backend: Backend;
  runtime: RuntimeName;
  /** WASM: the threads the network runs on. */
  threads?: number;
  /** The own WASM kernel's build. */
  simd?: KernelSimd;
  /** Why WebGPU was not used, when 'auto' ended up on WASM. */
  webgpuProblem?: string;
}

/** A runner and what it runs on. */
interface Made {
  runner: Runner;
  backend: Backend;
  runtime: RuntimeName;
  /** The GPU device its WebGPU outputs are on. */
  device: () => Promise<GpuDevice>;
  webgpuProblem?: string;
  threads?: number;
  simd?: KernelSimd;
}

/** The model, and the runtime (the player's own kernels, or onnxruntime-web's sessions) its frames run on. */
export class Network {
  /** Set once a model is ready, unset after a fallback. */
  runner?: Runner;
  /** The model loaded last; kept after a fallback, whose bilinear frames still use its scale. */
  model?: ModelInfo;
  backend: Backend | 'none' = 'none';
  /** What the runner runs on (kept after a fallback, like the model). */
  runtime: RuntimeName = 'onnxruntime-web';
  /** Bumped by release() and destroy(): an open() that started before is stale and gives up. */
  private generation = 0;
  private destroyed = false;

  constructor(
    private readonly opts: NetworkOptions,
    /** Resolves when no frame is in flight. */
    private readonly whenIdle: () => Promise<void>,
  ) {}

  /** Loads the model at `url` and makes its sessions; undefined when released or destroyed meanwhile. Throws why it cannot. */
  async open(url: string, bareScale: number | undefined, hooks: OpenHooks): Promise<Opened | undefined> {
    const gen = this.generation;
    const stale = () => this.destroyed || gen !== this.generation;
    const choice = this.opts.backend ?? 'auto';
    const gpuProblem = choice === 'wasm' ? 'WASM requested' : await webgpuUsable();
    const model = await loadModel(url, bareScale);
    if (stale()) return undefined;
    const own = chooseRuntime(this.opts.runtime, model.bytes);
    await hooks.beforeSession(!gpuProblem);
    const res = 'plan' in own ? await this.kernels(own.plan, model, choice, gpuProblem) : await this.ortSessions(model, choice, gpuProblem);
    const { runner } = res;
    if (!stale()) await hooks.afterSession(res.backend, res.device, model.inScale);
    if (!stale()) await runner.warmUp(hooks.warmSizes().filter((s) => runner.accepts(s)));
    if (stale()) {
      await runner.release();
      return undefined;
    }
    this.dropRunner();
    this.runner = runner;
    this.model = model;
    this.backend = res.backend;
    this.runtime = res.runtime;
    return { backend: res.backend, runtime: res.runtime, webgpuProblem: res.webgpuProblem, threads: res.threads, simd: res.simd };
  }

  private async kernels(plan: KernelPlan, model: ModelInfo, choice: BackendChoice, gpuProblem?: string): Promise<Made> {
    const k = await openKernels(plan, choice, gpuProblem, { numThreads: this.opts.numThreads, relaxedSimd: this.opts.relaxedSimd });
    model.input ||= plan.input;
    model.output ||= plan.output;
    const device = async () => k.device ?? Promise.reject(new Error('the WASM kernel has no GPU device'));
    return { runner: new Runner(model, k.engine, this.opts.tile), backend: k.backend, runtime: 'kernels', device, webgpuProblem: k.webgpuProblem, threads: k.threads, simd: k.simd };
  }

  private async ortSessions(model: ModelInfo, choice: BackendChoice, gpuProblem?: string): Promise<Made> {
    const wasmPaths = this.opts.wasmPaths ?? '/ort/';
    const ort = await loadRuntime({ runtime: this.opts.runtime, ort: this.opts.ort, ortUrl: this.opts.ortUrl, wasmPaths }, !gpuProblem);
    configureOrt(ort, { wasmPaths, numThreads: this.opts.numThreads, proxy: this.opts.proxy ?? !!gpuProblem });
    const res = await createSession(ort, model.bytes, choice, gpuProblem);
    model.input ||= res.session.inputNames[0];
    model.output ||= res.session.outputNames[0];
    const engine = new OrtEngine(ort, model, new SessionPool(ort, model.bytes, res.options, res.session, model.input));
    const device = async () => (await ort.env.webgpu.device) as unknown as GpuDevice;
    return { runner: new Runner(model, engine, this.opts.tile), backend: res.backend, runtime: 'onnxruntime-web', device, webgpuProblem: res.webgpuProblem, threads: res.backend === 'wasm' ? ort.env.wasm.numThreads : undefined };
  }

  /** Falls back to no network (or starts over for a new source): drops the sessions, and any open() in progress. */
  release(): void {
    this.generation++;
    this.backend = 'none';
    this.dropRunner();
  }

  destroy(): void {
    this.destroyed = true;
    this.release();
  }

  /** A frame still in flight finishes on the sessions before they are released. */
  private dropRunner(): void {
    const r = this.runner;
    this.runner = undefined;
    if (r) void this.whenIdle().then(() => r.release());
  }
}
