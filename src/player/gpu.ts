/**
 * Draws the network's output straight from the GPU buffer onnxruntime-web's WebGPU backend leaves
 * it in (`preferredOutputLocation: 'gpu-buffer'`), with a render pass on onnxruntime-web's own
 * GPUDevice: planar float RGB [1,3,H,W] -> the same 8-bit values the CPU path gets from
 * planarToPacked (src/shared/image.ts) -> a WebGPU canvas -> the page's 2D canvas.
 *
 * The page's canvas keeps its 2D context for every kind of frame (bilinear, passthrough, neural),
 * since a canvas can only ever have one context type and the player draws bilinear frames before
 * it knows its backend. The WebGPU canvas is private; `drawImage` of it onto an accelerated 2D
 * canvas is a GPU-side copy, so the pixels never come back to the CPU.
 */
import type { TileOutput } from './tiling.js';

// The TypeScript DOM library has no WebGPU types (and @webgpu/types is not a dependency): these
// are the few members used here.
export interface GpuBuffer {
  readonly size: number;
  destroy(): void;
}
interface GpuBindGroupEntry {
  binding: number;
  resource: { buffer: GpuBuffer };
}
interface GpuRenderPipeline {
  getBindGroupLayout(i: number): unknown;
}
interface GpuRenderPass {
  setPipeline(p: GpuRenderPipeline): void;
  setBindGroup(i: number, g: unknown): void;
  setScissorRect(x: number, y: number, w: number, h: number): void;
  draw(vertices: number): void;
  end(): void;
}
interface GpuCommandEncoder {
  beginRenderPass(d: { colorAttachments: { view: unknown; loadOp: 'clear'; storeOp: 'store'; clearValue: number[] }[] }): GpuRenderPass;
  finish(): unknown;
}
export interface GpuDevice {
  createShaderModule(d: { code: string }): unknown;
  createRenderPipeline(d: object): GpuRenderPipeline;
  createBuffer(d: { size: number; usage: number }): GpuBuffer;
  createBindGroup(d: { layout: unknown; entries: GpuBindGroupEntry[] }): unknown;
  createCommandEncoder(): GpuCommandEncoder;
  pushErrorScope(filter: 'validation'): void;
  popErrorScope(): Promise<{ message: string } | null>;
  readonly queue: {
    writeBuffer(b: GpuBuffer, offset: number, data: ArrayBufferView): void;
    submit(cmds: unknown[]): void;
    onSubmittedWorkDone(): Promise<void>;
  };
}
interface GpuCanvasContext {
  configure(c: { device: GpuDevice; format: string; alphaMode: 'opaque'; usage: number }): void;
  unconfigure(): void;
  getCurrentTexture(): { createView(): unknown };
}

// GPUBufferUsage / GPUTextureUsage flags (the globals exist only where WebGPU does)
const UNIFORM = 0x40;
const STORAGE = 0x80;
const COPY_DST = 0x08;
const RENDER_ATTACHMENT = 0x10;

/** A rectangle of one network output (a GPU buffer: float32, planar RGB) drawn at a place of the frame. */
export type GpuPart = TileOutput<GpuBuffer>;

const SHADER = /* wgsl */ `
struct Part { src: vec2<i32>, dst: vec2<i32>, width: i32, plane: i32, scale: f32, pad: f32 };
@group(0) @binding(0) var<uniform> part: Part;
@group(0) @binding(1) var<storage, read> data: array<f32>;
@group(0) @binding(2) var<storage, read> thresholds: array<f32>;

@vertex fn vs(@builtin(vertex_index) i: u32) -> @builtin(position) vec4<f32> {
  // one triangle covering the target; the scissor rectangle picks the part's pixels
  let p = vec2<f32>(f32((i << 1u) & 2u), f32(i & 2u));
  return vec4<f32>(p * 2.0 - 1.0, 0.0, 1.0);
}

// round(v * scale) clamped to 0..255, exactly as planarToPacked computes it in double precision:
// the f32 estimate can be one off next to a .5 boundary, the exact thresholds settle it
fn q8(v: f32) -> f32 {
  var q = i32(clamp(floor(v * part.scale + 0.5), 0.0, 255.0));
  if (q < 255 && v >= thresholds[q]) { q = q + 1; }
  if (q > 0 && v < thresholds[q - 1]) { q = q - 1; }
  return f32(q) / 255.0;
}

@fragment fn fs(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
  let xy = vec2<i32>(floor(pos.xy)) - part.dst + part.src;
  let i = xy.y * part.width + xy.x;
  return vec4<f32>(q8(data[i]), q8(data[i + part.plane]), q8(data[i + 2 * part.plane]), 1.0);
}
`;

/**
 * T[k] = the smallest float32 v with v * scale >= k + 0.5 in double precision, i.e. where
 * Math.round(v * scale) reaches k + 1. Comparing float32 values is exact on any GPU, so the
 * shader's rounding matches the CPU's bit for bit.
 */
export function roundingThresholds(scale: number): Float32Array {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  const step = (v: number, d: 1 | -1): number => {
    // neighbouring float32 of a positive v
    f[0] = v;
    u[0] += d;
    return f[0];
  };
  const t = new Float32Array(256);
  for (let k = 0; k < 255; k++) {
    const bound = k + 0.5;
    let v = Math.fround(bound / scale);
    while (v * scale < bound) v = step(v, 1);
    while (step(v, -1) * scale >= bound) v = step(v, -1);
    t[k] = v;
  }
  t[255] = Infinity; // never read (q < 255 guards it); keeps the table a round size
  return t;
}

type OwnDevice = GpuDevice & { destroy(): void; lost: Promise<unknown> };
interface GpuAdapterSource {
  requestAdapter(): Promise<{ requestDevice(): Promise<OwnDevice> } | null>;
  getPreferredCanvasFormat(): string;
}

function gpuApi(): GpuAdapterSource | undefined {
  return (navigator as Navigator & { gpu?: GpuAdapterSource }).gpu;
}

/**
 * Whether a WebGPU canvas can be drawn and copied onto a 2D canvas here, tried on a throwaway
 * device; the problem, or undefined. Where it cannot, trying can lose every GPUDevice of the page
 * at once (headless Chromium on SwiftShader without --use-vulkan=swiftshader: "A valid external
 * Instance reference no longer exists"), so this must run before onnxruntime-web makes its device.
 */
/** @public used by test/player/webgpu.test.ts inside the page, where knip does not look */
export async function probeCanvasPath(timeoutMs = 3000): Promise<string | undefined> {
  return (await probeCanvas(timeoutMs)).problem;
}

/**
 * probeCanvasPath, also saying whether the check lost the GPU device. Such a loss resets the
 * browser's GPU state, and with it video frames decoded before it: a paused <video> then shows
 * (and hands VideoFrame / drawImage) a black frame until it decodes that frame again.
 */
export async function probeCanvas(timeoutMs = 3000): Promise<{ problem?: string; lost: boolean }> {
  const problem = await check(timeoutMs);
  return { problem, lost: problem?.startsWith(LOSES) ?? false };
}

const LOSES = 'drawing a WebGPU canvas loses the GPU device here';

async function check(timeoutMs: number): Promise<string | undefined> {
  let device: OwnDevice;
  try {
    const adapter = await gpuApi()?.requestAdapter();
    if (!adapter) return 'no WebGPU adapter';
    device = await adapter.requestDevice();
  } catch (e) {
    return `WebGPU canvas check: no device (${(e as Error).message})`;
  }
  let lost = false;
  void device.lost.then(() => (lost = true));
  try {
    const g = new OffscreenCanvas(2, 2);
    const gc = g.getContext('webgpu') as unknown as GpuCanvasContext | null;
    const c2 = new OffscreenCanvas(2, 2).getContext('2d', { willReadFrequently: true });
    if (!gc || !c2) return 'no WebGPU or 2D context on an OffscreenCanvas';
    // the format and mode GpuPresenter uses
    gc.configure({ device, format: gpuApi()?.getPreferredCanvasFormat() ?? 'rgba8unorm', alphaMode: 'opaque', usage: RENDER_ATTACHMENT });
    const enc = device.createCommandEncoder();
    // exact 8-bit values, so the copy can be checked byte for byte
    const clearValue = [1, 128 / 255, 0, 1];
    enc.beginRenderPass({ colorAttachments: [{ view: gc.getCurrentTexture().createView(), loadOp: 'clear', storeOp: 'store', clearValue }] }).end();
    device.queue.submit([enc.finish()]);
    c2.drawImage(g, 0, 0);
    const px = Array.from(c2.getImageData(0, 0, 1, 1).data);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<string>((r) => (timer = setTimeout(() => r('timed out'), timeoutMs)));
    const done = await Promise.race([device.queue.onSubmittedWorkDone().then(() => 'ok', (e: Error) => e.message), timeout]);
    clearTimeout(timer);
    if (lost || done !== 'ok') return `${LOSES} (${done})`;
    if (px.join() !== '255,128,0,255') return `a WebGPU canvas copied onto a 2D canvas reads ${px.join()}, not 255,128,0,255`;
    return undefined;
  } catch (e) {
    return `WebGPU canvas check failed: ${(e as Error).message}`;
  } finally {
    device.destroy();
  }
}

export class GpuPresenter {
  private readonly canvas: OffscreenCanvas | HTMLCanvasElement;
  private readonly context: GpuCanvasContext;
  private readonly pipeline: GpuRenderPipeline;
  private readonly thresholds: GpuBuffer;
  private readonly uniforms: GpuBuffer[] = [];
  private readonly uniformData = new ArrayBuffer(32);
  private destroyed = false;

  private constructor(private readonly device: GpuDevice, private readonly scale: number) {
    this.canvas = typeof OffscreenCanvas === 'function' ? new OffscreenCanvas(1, 1) : document.createElement('canvas');
    const ctx = (this.canvas as { getContext(id: string): unknown }).getContext('webgpu') as GpuCanvasContext | null;
    if (!ctx) throw new Error('no WebGPU canvas context');
    this.context = ctx;
    const format = gpuApi()?.getPreferredCanvasFormat() ?? 'rgba8unorm';
    // opaque: the frame is drawn as is, never blended with what lies under the canvas
    ctx.configure({ device, format, alphaMode: 'opaque', usage: RENDER_ATTACHMENT });
    const module = device.createShaderModule({ code: SHADER });
    this.pipeline = device.createRenderPipeline({
      layout: 'auto',
      vertex: { module, entryPoint: 'vs' },
      fragment: { module, entryPoint: 'fs', targets: [{ format }] },
      primitive: { topology: 'triangle-list' },
    });
    this.thresholds = device.createBuffer({ size: 256 * 4, usage: STORAGE | COPY_DST });
    device.queue.writeBuffer(this.thresholds, 0, roundingThresholds(scale));
  }

  /**
   * A presenter on `device` for a network whose output times `scale` gives 0-255 values (255 for
   * a 0-1 network). Rejects, with the reason, when this browser cannot draw that way.
   */
  static async create(device: GpuDevice, scale: number): Promise<GpuPresenter> {
    // validation errors surface asynchronously, not as exceptions: catch them here, once
    device.pushErrorScope('validation');
    let p: GpuPresenter | undefined;
    let thrown: unknown;
    try {
      p = new GpuPresenter(device, scale);
    } catch (e) {
      thrown = e;
    }
    const err = await device.popErrorScope();
    if (thrown) throw thrown;
    if (err || !p) {
      p?.destroy();
      throw new Error(`WebGPU draw pipeline: ${err?.message ?? 'not created'}`);
    }
    return p;
  }

  /**
   * Draws `parts` into a `width` x `height` frame and copies it onto `target` (whose canvas must
   * have that size). The GPU work is queued; `done()` waits for it.
   */
  present(target: CanvasRenderingContext2D, width: number, height: number, parts: GpuPart[]): void {
    if (this.destroyed) throw new Error('the WebGPU presenter was destroyed');
    if (this.canvas.width !== width) this.canvas.width = width;
    if (this.canvas.height !== height) this.canvas.height = height;
    const d = this.device;
    while (this.uniforms.length < parts.length) this.uniforms.push(d.createBuffer({ size: 32, usage: UNIFORM | COPY_DST }));
    const i32 = new Int32Array(this.uniformData);
    const f32 = new Float32Array(this.uniformData);
    const layout = this.pipeline.getBindGroupLayout(0);
    const groups = parts.map((p, k) => {
      i32.set([p.srcX, p.srcY, p.dstX, p.dstY, p.width, p.width * p.height]);
      f32[6] = this.scale;
      d.queue.writeBuffer(this.uniforms[k], 0, i32);
      return d.createBindGroup({
        layout,
        entries: [
          { binding: 0, resource: { buffer: this.uniforms[k] } },
          { binding: 1, resource: { buffer: p.out } },
          { binding: 2, resource: { buffer: this.thresholds } },
        ],
      });
    });
    const enc = d.createCommandEncoder();
    const pass = enc.beginRenderPass({
      colorAttachments: [{ view: this.context.getCurrentTexture().createView(), loadOp: 'clear', storeOp: 'store', clearValue: [0, 0, 0, 1] }],
    });
    pass.setPipeline(this.pipeline);
    parts.forEach((p, k) => {
      pass.setBindGroup(0, groups[k]);
      pass.setScissorRect(p.dstX, p.dstY, p.w, p.h);
      pass.draw(3);
    });
    pass.end();
    d.queue.submit([enc.finish()]);
    // in the same task as the submit, while the canvas still holds this frame's texture
    target.drawImage(this.canvas, 0, 0);
  }

  /** Resolves when the GPU has finished everything queued so far (the network's run included). */
  done(): Promise<void> {
    return this.device.queue.onSubmittedWorkDone();
  }

  /** Frees the buffers and the canvas configuration. Safe to call twice. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const b of this.uniforms) b.destroy();
    this.uniforms.length = 0;
    this.thresholds.destroy();
    this.context.unconfigure();
  }
}
