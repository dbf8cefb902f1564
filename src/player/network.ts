import type { GpuDevice } from './gpu.js';
import { configureOrt, createSession, loadModel, loadOrt, webgpuUsable, type ModelInfo } from './model.js';
import { Runner } from './runner.js';
import { SessionPool } from './sessions.js';
import type { Backend, CommonOptions } from './types.js';

export type NetworkOptions = Pick<CommonOptions, 'backend' | 'wasmPaths' | 'ort' | 'ortUrl' | 'numThreads' | 'proxy' | 'tile'>;

/** Steps of opening that belong to other parts (the WebGPU draw path), in the order they must run. */
export interface OpenHooks {
  /** Before onnxruntime-web makes its GPU device; `webgpu`: whether a WebGPU session will be tried. */
  beforeSession(webgpu: boolean): Promise<void>;
  /** Once the session exists, before any frame uses it. `device` is onnxruntime-web's own GPU device. */
  afterSession(backend: Backend, device: () => Promise<GpuDevice>, inScale: number): Promise<void>;
}

export interface Opened {
  backend: Backend;
  /** Why WebGPU was not used, when 'auto' ended up on WASM. */
  webgpuProblem?: string;
}

/** onnxruntime-web, the model, and the sessions the frames run on. */
export class Network {
  /** Set once a model is ready, unset after a fallback. */
  runner?: Runner;
  /** The model loaded last; kept after a fallback, whose bilinear frames still use its scale. */
  model?: ModelInfo;
  backend: Backend | 'none' = 'none';
  private destroyed = false;

  constructor(
    private readonly opts: NetworkOptions,
    /** Resolves when no frame is in flight. */
    private readonly whenIdle: () => Promise<void>,
  ) {}

  /** Loads the model at `url` and makes its sessions; undefined when destroyed meanwhile. Throws why it cannot. */
  async open(url: string, bareScale: number | undefined, hooks: OpenHooks): Promise<Opened | undefined> {
    const wasmPaths = this.opts.wasmPaths ?? '/ort/';
    const choice = this.opts.backend ?? 'auto';
    const ort = await loadOrt({ ort: this.opts.ort, ortUrl: this.opts.ortUrl, wasmPaths });
    const gpuProblem = choice === 'wasm' ? 'WASM requested' : await webgpuUsable();
    configureOrt(ort, { wasmPaths, numThreads: this.opts.numThreads, proxy: this.opts.proxy ?? !!gpuProblem });
    const model = await loadModel(url, bareScale);
    if (this.destroyed) return undefined;
    await hooks.beforeSession(!gpuProblem);
    const res = await createSession(ort, model.bytes, choice, gpuProblem);
    model.input ||= res.session.inputNames[0];
    model.output ||= res.session.outputNames[0];
    if (!this.destroyed) await hooks.afterSession(res.backend, async () => (await ort.env.webgpu.device) as unknown as GpuDevice, model.inScale);
    if (this.destroyed) {
      await res.session.release();
      return undefined;
    }
    this.runner = new Runner(ort, model, new SessionPool(ort, model.bytes, res.options, res.session, model.input), this.opts.tile);
    this.model = model;
    this.backend = res.backend;
    return { backend: res.backend, webgpuProblem: res.webgpuProblem };
  }

  /** Falls back to no network: drops the sessions. */
  release(): void {
    this.backend = 'none';
    this.dropRunner();
  }

  destroy(): void {
    this.destroyed = true;
    this.dropRunner();
  }

  /** A frame still in flight finishes on the sessions before they are released. */
  private dropRunner(): void {
    const r = this.runner;
    this.runner = undefined;
    if (r) void this.whenIdle().then(() => r.release());
  }
}
