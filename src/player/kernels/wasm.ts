/**
 * The player's own WASM upscaler: the AssemblyScript SIMD kernel (wasm-kernel.as, a few KB,
 * inlined into the bundle by build.ts) run layer by layer over buffers in its linear memory.
 * Single-threaded, on the calling thread.
 */
import { packPlan, type PackedLayer } from './layout.js';
import type { KernelPlan } from './plan.js';

/** The compiled kernel, base64; defined by build.ts when it bundles the player. */
declare const __HCD_KERNEL_WASM__: string | undefined;

interface KernelExports {
  memory: WebAssembly.Memory;
  conv(inp: number, out: number, stride: number, w: number, h: number, cin: number, cout: number, k: number, wt: number, bias: number, slope: number, add: number): void;
  fromPlanar(src: number, dst: number, stride: number, w: number, h: number, c: number): void;
  reflectBorder(buf: number, stride: number, w: number, h: number, c: number, b: number): void;
  depthToSpace(src: number, stride: number, w: number, h: number, c: number, s: number, crd: number, lo: number, hi: number, dst: number): void;
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

/** The WASM bytes bundled with the player, if this is the bundle. */
export function bundledKernel(): Uint8Array<ArrayBuffer> | undefined {
  if (typeof __HCD_KERNEL_WASM__ !== 'string') return undefined;
  return Uint8Array.from(atob(__HCD_KERNEL_WASM__), (c) => c.charCodeAt(0));
}

export class WasmKernel {
  private readonly body: PlacedLayer[];
  private readonly skip: PlacedLayer;
  private readonly border: number;
  private readonly hidden4: number;
  /** Where the per-size buffers start (after the weights). */
  private readonly heap: number;
  private bufs?: Buffers;

  private constructor(private readonly k: KernelExports, private readonly plan: KernelPlan) {
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

  /** A kernel for `plan`, from the bundled WASM or the given bytes. */
  static async create(plan: KernelPlan, wasm: Uint8Array<ArrayBuffer> | undefined = bundledKernel()): Promise<WasmKernel> {
    if (!wasm) throw new Error('the WASM kernel is not in this build');
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(wasm));
    return new WasmKernel(instance.exports as unknown as KernelExports, plan);
  }

  /**
   * Upscales a planar 1x3xHxW input; returns the planar output, a view into the kernel's memory
   * that stays valid until the next run.
   */
  run(x: Float32Array, w: number, h: number): Float32Array {
    const b = this.buffers(w, h);
    const { k, border } = this;
    const s = this.plan.scale;
    this.f32(b.input, 3 * w * h).set(x.subarray(0, 3 * w * h));
    k.fromPlanar(b.input, this.at(b, b.x0, 4), b.stride, w, h, 4);
    k.fromPlanar(b.input, this.at(b, b.xr, 4), b.stride, w, h, 4);
    k.reflectBorder(this.at(b, b.xr, 4), b.stride, w, h, 4, border);
    const sk = this.skip;
    this.conv(sk.reflect ? b.xr : b.x0, b.t, b, sk, false);
    let cur = b.x0;
    this.body.forEach((l, i) => {
      const last = i === this.body.length - 1;
      const out = last ? b.t : cur === b.a ? b.b : b.a;
      this.conv(cur, out, b, l, last);
      cur = out;
    });
    const clip = this.plan.clip;
    const crd = this.plan.order === 'CRD' ? 1 : 0;
    k.depthToSpace(this.at(b, b.t, sk.cout4), b.stride, w, h, sk.cout4, s, crd, clip?.lo ?? -Infinity, clip?.hi ?? Infinity, b.output);
    return this.f32(b.output, 3 * w * h * s * s);
  }

  /** The interior's first pixel of the activation buffer at `base` read as `c` channels. */
  private at(b: Buffers, base: number, c: number): number {
    return base + 4 * (this.border * b.stride + this.border) * c;
  }

  private conv(inp: number, out: number, b: Buffers, l: PlacedLayer, add: boolean): void {
    // a buffer written with another channel count has values where this layout's zero border is
    if (b.channels.get(out) !== l.cout4) {
      if (b.channels.has(out)) this.f32(out, b.bytes / 4).fill(0);
      b.channels.set(out, l.cout4);
    }
    this.k.conv(this.at(b, inp, l.cin4), this.at(b, out, l.cout4), b.stride, b.w, b.h, l.cin4, l.cout4, l.k, l.wt, l.biasAt, l.slopeAt, add ? 1 : 0);
  }

  private f32(at: number, n: number): Float32Array {
    return new Float32Array(this.k.memory.buffer, at, n);
  }

  private reserve(bytes: number): void {
    const mem = this.k.memory;
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
