/**
 * The player's own WebGPU upscaler: one compute pass per frame tile (skip conv, body convs, the
 * last one adding the skip, DepthToSpace + Clip) on the player's own GPUDevice. Weights are
 * uploaded once; activations stay in GPU buffers between layers, and the output stays on the GPU
 * for GpuPresenter (src/player/gpu.ts) to draw.
 */
import type { GpuBuffer, GpuDevice } from '../gpu.js';
import type { GpuOutput, TileEngine } from '../runner.js';
import { packPlan, type PackedLayer } from './layout.js';
import type { KernelPlan } from './plan.js';
import { convShader, depthToSpaceShader, matrices, WORKGROUP } from './wgsl.js';

// The compute members gpu.ts's GpuDevice does not describe (there are no WebGPU types in the
// TypeScript DOM library).
interface ComputePipeline {
  getBindGroupLayout(i: number): unknown;
}
interface ComputePass {
  setPipeline(p: ComputePipeline): void;
  setBindGroup(i: number, g: unknown): void;
  dispatchWorkgroups(x: number, y: number): void;
  end(): void;
}
interface Encoder {
  beginComputePass(): ComputePass;
  copyBufferToBuffer(a: GpuBuffer, ao: number, b: GpuBuffer, bo: number, n: number): void;
  finish(): unknown;
}
interface MappableBuffer extends GpuBuffer {
  mapAsync(mode: number): Promise<void>;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
}
export type ComputeDevice = GpuDevice & {
  createComputePipeline(d: { layout: 'auto'; compute: { module: unknown; entryPoint: string } }): ComputePipeline;
  destroy(): void;
};

// GPUBufferUsage / GPUMapMode flags
const MAP_READ = 0x01;
const COPY_SRC = 0x04;
const COPY_DST = 0x08;
const UNIFORM = 0x40;
const STORAGE = 0x80;

interface Step {
  pipeline: ComputePipeline;
  layer?: PackedLayer;
  weights?: GpuBuffer;
  params?: GpuBuffer;
}

/** One input size's buffers and bind groups. */
interface Sized {
  w: number;
  h: number;
  dims: GpuBuffer;
  input: GpuBuffer;
  staging: Float32Array;
  groups: unknown[];
  /** Output buffers not in use, and all of them (to free). */
  free: GpuBuffer[];
  all: GpuBuffer[];
  scratch: GpuBuffer[];
  /** Where the last step (DepthToSpace) writes, set per run. */
  outBinding: (out: GpuBuffer) => unknown;
}

export class WebGpuKernel implements TileEngine {
  readonly max = 3;
  private readonly steps: Step[];
  private readonly d2s: ComputePipeline;
  private readonly sized = new Map<string, Sized>();
  private readonly hidden4: number;

  private constructor(readonly device: ComputeDevice, private readonly plan: KernelPlan) {
    const packed = packPlan(plan);
    this.hidden4 = packed.hidden4;
    const step = (l: PackedLayer, add: boolean): Step => ({
      pipeline: this.pipeline(convShader(l, add)),
      layer: l,
      weights: this.upload(matrices(l), STORAGE),
      params: this.upload(l.slope ? concat(l.bias, l.slope) : l.bias, STORAGE),
    });
    const last = packed.body.length - 1;
    this.steps = [step(packed.skip, false), ...packed.body.map((l, i) => step(l, i === last))];
    this.d2s = this.pipeline(depthToSpaceShader(plan.scale, plan.order === 'CRD', plan.clip));
  }

  /** A kernel on `device`; rejects with the reason when its shaders do not compile there. */
  static async create(device: ComputeDevice, plan: KernelPlan): Promise<WebGpuKernel> {
    device.pushErrorScope('validation');
    let k: WebGpuKernel | undefined;
    let thrown: unknown;
    try {
      k = new WebGpuKernel(device, plan);
    } catch (e) {
      thrown = e;
    }
    const err = await device.popErrorScope();
    if (thrown) throw thrown;
    if (err || !k) throw new Error(`WebGPU kernels: ${err?.message ?? 'not created'}`);
    return k;
  }

  async onGpu(x: Float32Array, w: number, h: number): Promise<GpuOutput> {
    const z = this.forSize(w, h);
    const out = z.free.pop() ?? this.output(z);
    this.encode(x, z, out);
    return { buffer: out, fixed: true, dispose: () => z.free.push(out) };
  }

  async download(x: Float32Array, w: number, h: number): Promise<{ data: Float32Array; fixed: boolean }> {
    const y = await this.onGpu(x, w, h);
    const bytes = y.buffer.size;
    const read = this.device.createBuffer({ size: bytes, usage: MAP_READ | COPY_DST }) as MappableBuffer;
    try {
      const enc = this.encoder();
      enc.copyBufferToBuffer(y.buffer, 0, read, 0, bytes);
      this.device.queue.submit([enc.finish()]);
      await read.mapAsync(MAP_READ);
      return { data: new Float32Array(read.getMappedRange().slice(0)), fixed: true };
    } finally {
      read.destroy();
      y.dispose();
    }
  }

  async release(): Promise<void> {
    for (const z of this.sized.values()) this.freeSize(z);
    this.sized.clear();
    for (const s of this.steps) {
      s.weights?.destroy();
      s.params?.destroy();
    }
  }

  private encoder(): Encoder {
    return this.device.createCommandEncoder() as unknown as Encoder;
  }

  private pipeline(code: string): ComputePipeline {
    const module = this.device.createShaderModule({ code });
    return this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  }

  private upload(data: Float32Array | Int32Array, usage: number): GpuBuffer {
    const b = this.device.createBuffer({ size: Math.max(16, data.byteLength), usage: usage | COPY_DST });
    this.device.queue.writeBuffer(b, 0, data);
    return b;
  }

  private output(z: Sized): GpuBuffer {
    const s = this.plan.scale;
    const b = this.device.createBuffer({ size: 3 * z.w * z.h * s * s * 4, usage: STORAGE | COPY_SRC });
    z.all.push(b);
    return b;
  }

  /** Queues one tile: input upload, every layer, DepthToSpace into `out`. */
  private encode(x: Float32Array, z: Sized, out: GpuBuffer): void {
    const n = z.w * z.h;
    const v = z.staging;
    for (let i = 0; i < n; i++) {
      v[4 * i] = x[i];
      v[4 * i + 1] = x[i + n];
      v[4 * i + 2] = x[i + 2 * n];
    }
    this.device.queue.writeBuffer(z.input, 0, v);
    const enc = this.encoder();
    const pass = enc.beginComputePass();
    const [gx, gy] = [Math.ceil(z.w / WORKGROUP), Math.ceil(z.h / WORKGROUP)];
    this.steps.forEach((s, i) => {
      pass.setPipeline(s.pipeline);
      pass.setBindGroup(0, z.groups[i]);
      pass.dispatchWorkgroups(gx, gy);
    });
    const s = this.plan.scale;
    pass.setPipeline(this.d2s);
    pass.setBindGroup(0, z.outBinding(out));
    pass.dispatchWorkgroups(Math.ceil((z.w * s) / WORKGROUP), Math.ceil((z.h * s) / WORKGROUP));
    pass.end();
    this.device.queue.submit([enc.finish()]);
  }

  /** The buffers and bind groups of a w x h input (the 3 most recent sizes are kept). */
  private forSize(w: number, h: number): Sized {
    const key = `${w}x${h}`;
    const had = this.sized.get(key);
    if (had) {
      this.sized.delete(key);
      this.sized.set(key, had);
      return had;
    }
    if (this.sized.size >= this.max) {
      const [oldest, z] = this.sized.entries().next().value as [string, Sized];
      this.sized.delete(oldest);
      this.freeSize(z);
    }
    const z = this.makeSize(w, h);
    this.sized.set(key, z);
    return z;
  }

  private makeSize(w: number, h: number): Sized {
    const d = this.device;
    const n = w * h;
    const act = (c4: number) => d.createBuffer({ size: n * c4 * 4, usage: STORAGE });
    const input = d.createBuffer({ size: n * 16, usage: STORAGE | COPY_DST });
    const [a, b, t] = [act(this.hidden4), act(this.hidden4), act(this.steps[0].layer?.cout4 ?? 4)];
    const dims = this.upload(new Int32Array([w, h, 0, 0]), UNIFORM);
    const group = (p: ComputePipeline, bufs: GpuBuffer[]) =>
      d.createBindGroup({ layout: p.getBindGroupLayout(0), entries: bufs.map((buffer, binding) => ({ binding, resource: { buffer } })) });
    // skip: input -> t; body: input -> a -> b -> a ..., the last one adding onto t
    const groups: unknown[] = [];
    let cur = input;
    this.steps.forEach((s, i) => {
      const last = i === this.steps.length - 1;
      const from = i === 0 ? input : cur;
      const to = i === 0 || last ? t : cur === a ? b : a;
      groups.push(group(s.pipeline, [dims, from, s.weights as GpuBuffer, s.params as GpuBuffer, to]));
      if (i > 0) cur = to;
    });
    const staging = new Float32Array(4 * n);
    return { w, h, dims, input, staging, groups, free: [], all: [], scratch: [input, a, b, t, dims], outBinding: (out) => group(this.d2s, [dims, t, out]) };
  }

  private freeSize(z: Sized): void {
    for (const b of [...z.scratch, ...z.all]) b.destroy();
  }
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
