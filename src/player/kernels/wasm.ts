/**
 * The player's own WASM upscaler: the AssemblyScript SIMD kernel (wasm-kernel.as, a few KB,
 * inlined into the bundle by build.ts) run layer by layer over buffers in its linear memory.
 * On the calling thread, or split by rows over worker threads sharing that memory (threads.ts).
 */
import { packPlan, type PackedLayer } from './layout.js';
import type { KernelPlan } from './plan.js';
import { ThreadPool, type Call, type Executor, type KernelFn } from './threads.js';

/**
 * The compiled kernels, base64 (own memory; imported shared memory; each also with relaxed SIMD's
 * fused multiply-add); defined by build.ts when it bundles the player.
 */
declare const __HCD_KERNEL_WASM__: string | undefined;
declare const __HCD_KERNEL_WASM_SHARED__: string | undefined;
declare const __HCD_KERNEL_WASM_RELAXED__: string | undefined;
declare const __HCD_KERNEL_WASM_SHARED_RELAXED__: string | undefined;

type KernelExports = Record<KernelFn, (...args: number[]) => void> & { memory: WebAssembly.Memory };

/** Runs the calls on this thread. */
class Local implements Executor {
  readonly memory: WebAssembly.Memory;
  constructor(private readonly k: KernelExports) {
    this.memory = k.memory;
  }

  async run(calls: Call[]): Promise<void> {
    for (const c of calls) this.k[c.fn](...c.args, ...(c.rows === undefined ? [] : [0, c.rows]));
  }

  release(): void {}
}

interface PlacedLayer extends PackedLayer {
  wt: number;
  biasAt: number;
  slopeAt: number;
}

/** Addresses (bytes) of one input size's buffers; activations' are of the buffer's start. */
interface Buffers {
  w: number;
  h: number;
  stride: number;
  input: number;
  output: number;
  x0: number;
  xr: number;
  a: number;
  b: number;
  t: number;
  /** Bytes of each activation buffer. */
  bytes: number;
  /** The channel count each activation buffer was last written with. */
  channels: Map<number, number>;
}

export type WasmBytes = Uint8Array<ArrayBuffer>;

const decode = (b64: string | undefined): WasmBytes | undefined => (b64 === undefined ? undefined : Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));

/**
 * The WASM bytes bundled with the player, if this is the bundle: the relaxed-SIMD builds where
 * this engine validates them (Chromium 114 and later), else the plain SIMD ones.
 * `relaxed: false` forces the plain ones.
 */
export function bundledKernels(relaxed = true): { own?: WasmBytes; shared?: WasmBytes; relaxed: boolean } {
  const own = relaxed ? decode(typeof __HCD_KERNEL_WASM_RELAXED__ === 'string' ? __HCD_KERNEL_WASM_RELAXED__ : undefined) : undefined;
  if (own && WebAssembly.validate(own)) {
    return { own, shared: decode(typeof __HCD_KERNEL_WASM_SHARED_RELAXED__ === 'string' ? __HCD_KERNEL_WASM_SHARED_RELAXED__ : undefined), relaxed: true };
  }
  return {
    own: decode(typeof __HCD_KERNEL_WASM__ === 'string' ? __HCD_KERNEL_WASM__ : undefined),
    shared: decode(typeof __HCD_KERNEL_WASM_SHARED__ === 'string' ? __HCD_KERNEL_WASM_SHARED__ : undefined),
    relaxed: false,
  };
}

/** Threads for the kernel: `wanted`, else min(4, cores) where the page can share memory (cross-origin isolated), else 1. */
export function kernelThreads(wanted?: number): number {
  if (globalThis.crossOriginIsolated !== true) return 1;
  return Math.max(1, Math.floor(wanted ?? Math.min(4, globalThis.navigator?.hardwareConcurrency ?? 1)));
}

export class WasmKernel {
  private readonly body: PlacedLayer[];
  private readonly skip: PlacedLayer;
  private readonly border: number;
  private readonly hidden4: number;
  /** Where the per-size buffers start (after the weights). */
  private readonly heap: number;
  private bufs?: Buffers;

  private constructor(private readonly exec: Executor, private readonly plan: KernelPlan) {
    const packed = packPlan(plan);
    this.border = packed.border;
    this.hidden4 = packed.hidden4;
    let at = 0;
    const place = (l: PackedLayer): PlacedLayer => {
      const p = { ...l, wt: at, biasAt: at + 4 * l.weights.length, slopeAt: l.slope ? at + 4 * (l.weights.length + l.cout4) : 0 };
      at = p.biasAt + 4 * l.cout4 * (l.slope ? 2 : 1);
      return p;
    };
    this.body = packed.body.map(place);
    this.skip = place(packed.skip);
    this.heap = at;
    this.reserve(at);
    for (const l of [...this.body, this.skip]) {
      this.f32(l.wt, l.weights.length).set(l.weights);
      this.f32(l.biasAt, l.cout4).set(l.bias);
      if (l.slope) this.f32(l.slopeAt, l.cout4).set(l.slope);
    }
  }

  /**
   * A kernel for `plan` on `threads` threads: more than 1 runs in workers over shared memory (the
   * `shared` build), else on the calling thread (the `own` build). Bytes: the bundled ones by default.
   */
  static async create(plan: KernelPlan, threads = 1, wasm: { own?: WasmBytes; shared?: WasmBytes } = bundledKernels()): Promise<WasmKernel> {
    if (threads > 1 && wasm.shared) return new WasmKernel(await ThreadPool.create(await WebAssembly.compile(wasm.shared), threads), plan);
    if (!wasm.own) throw new Error('the WASM kernel is not in this build');
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(wasm.own));
    return new WasmKernel(new Local(instance.exports as unknown as KernelExports), plan);
  }

  get threads(): number {
    return this.exec instanceof ThreadPool ? this.exec.threads : 1;
  }

  /**
   * Upscales a planar 1x3xHxW input; returns the planar output, a view into the kernel's memory
   * that stays valid until the next run.
   */
  async run(x: Float32Array, w: number, h: number): Promise<Float32Array> {
    const b = this.buffers(w, h);
    const s = this.plan.scale;
    this.f32(b.input, 3 * w * h).set(x.subarray(0, 3 * w * h));
    const calls: Call[] = [
      { fn: 'fromPlanar', args: [b.input, this.at(b, b.x0, 4), b.stride, w, h, 4], rows: h },
      { fn: 'fromPlanar', args: [b.input, this.at(b, b.xr, 4), b.stride, w, h, 4], rows: h },
      { fn: 'reflectBorder', args: [this.at(b, b.xr, 4), b.stride, w, h, 4, this.border] },
    ];
    const sk = this.skip;
    calls.push(this.conv(sk.reflect ? b.xr : b.x0, b.t, b, sk, false));
    let cur = b.x0;
    this.body.forEach((l, i) => {
      const last = i === this.body.length - 1;
      const out = last ? b.t : cur === b.a ? b.b : b.a;
      calls.push(this.conv(cur, out, b, l, last));
      cur = out;
    });
    const clip = this.plan.clip;
    const crd = this.plan.order === 'CRD' ? 1 : 0;
    calls.push({ fn: 'depthToSpace', args: [this.at(b, b.t, sk.cout4), b.stride, w, h, sk.cout4, s, crd, clip?.lo ?? -Infinity, clip?.hi ?? Infinity, b.output], rows: h });
    await this.exec.run(calls);
    return this.f32(b.output, 3 * w * h * s * s);
  }

  /** Stops the kernel's threads. */
  release(): void {
    this.exec.release();
  }

  /** The interior's first pixel of the activation buffer at `base` read as `c` channels. */
  private at(b: Buffers, base: number, c: number): number {
    return base + 4 * (this.border * b.stride + this.border) * c;
  }

  private conv(inp: number, out: number, b: Buffers, l: PlacedLayer, add: boolean): Call {
    // a buffer written with another channel count has values where this layout's zero border is
    if (b.channels.get(out) !== l.cout4) {
      if (b.channels.has(out)) this.f32(out, b.bytes / 4).fill(0);
      b.channels.set(out, l.cout4);
    }
    const args = [this.at(b, inp, l.cin4), this.at(b, out, l.cout4), b.stride, b.w, l.cin4, l.cout4, l.k, l.wt, l.biasAt, l.slopeAt, add ? 1 : 0];
    return { fn: 'conv', args, rows: b.h };
  }

  private f32(at: number, n: number): Float32Array {
    return new Float32Array(this.exec.memory.buffer, at, n);
  }

  private reserve(bytes: number): void {
    const mem = this.exec.memory;
    const need = Math.ceil((bytes - mem.buffer.byteLength) / 65536);
    if (need > 0) mem.grow(need);
  }

  /** The buffers of a w x h input, laid out (and their borders zeroed) on a size change. */
  private buffers(w: number, h: number): Buffers {
    if (this.bufs?.w === w && this.bufs.h === h) return this.bufs;
    const B = this.border;
    const stride = w + 2 * B;
    const s = this.plan.scale;
    let at = this.heap;
    const take = (floats: number) => {
      const p = at;
      at += Math.ceil(floats / 4) * 16;
      return p;
    };
    const c = Math.max(this.hidden4, this.skip.cout4, 4);
    const bytes = Math.ceil((stride * (h + 2 * B) * c) / 4) * 16;
    const input = take(3 * w * h);
    const output = take(3 * w * h * s * s);
    const act = () => take(bytes / 4);
    const bufs = { w, h, stride, input, output, x0: act(), xr: act(), a: act(), b: act(), t: act(), bytes, channels: new Map<number, number>() };
    this.reserve(at);
    this.f32(this.heap, (at - this.heap) / 4).fill(0);
    this.bufs = bufs;
    return bufs;
  }
}
