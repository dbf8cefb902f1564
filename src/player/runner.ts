import type { GpuBuffer, GpuPart } from './gpu.js';
import type { FrameLevel } from './levels.js';
import type { ModelInfo } from './model.js';
import type { SessionPool } from './sessions.js';
import { planTiles, runTiled, runTiles, type Tile } from './tiling.js';
import type { Ort, OrtTensor } from './types.js';

/** The input tensor and tile plan of one LR frame size, reused from frame to frame. */
export interface FrameInput {
  w: number;
  h: number;
  input: Float32Array;
  tiles: Tile[];
  /** The CPU path's stitched output (tiled frames only). */
  output?: Float32Array;
}

/** One frame's network output: tiles still on the GPU, or the frame's planar floats. */
export interface Inference {
  parts?: GpuPart[];
  planar?: Float32Array;
  /** Whether every run had a session with fixed input shapes. */
  fixedShape: boolean;
  /** Frees GPU outputs; call once they are drawn. */
  dispose(): void;
}

/** Something that can wait for the GPU's queued work (the WebGPU presenter). */
export interface GpuQueue {
  done(): Promise<void>;
}

/** One tile's output on the GPU, drawn by the presenter, then disposed. */
export interface GpuOutput {
  buffer: GpuBuffer;
  /** Whether the run had fixed input shapes. */
  fixed: boolean;
  dispose(): void;
}

/**
 * What runs the network on one planar 1x3xHxW tile: onnxruntime-web's sessions (OrtEngine) or
 * the player's own kernels (src/player/kernels/).
 */
export interface TileEngine {
  /** How many input sizes it keeps ready; warm-up runs at most that many. */
  readonly max: number;
  /** The tile's planar output on the CPU, valid until the next run. */
  download(x: Float32Array, w: number, h: number): Promise<{ data: Float32Array; fixed: boolean }>;
  /** The tile's output left in a GPU buffer (WebGPU only). */
  onGpu(x: Float32Array, w: number, h: number): Promise<GpuOutput>;
  /** Frees everything. Call when no run is in flight. */
  release(): Promise<void>;
}

/** onnxruntime-web's sessions as a TileEngine. */
export class OrtEngine implements TileEngine {
  constructor(
    private readonly ort: Ort,
    private readonly model: ModelInfo,
    private readonly pool: SessionPool,
  ) {}

  get max(): number {
    return this.pool.max;
  }

  async download(x: Float32Array, w: number, h: number): Promise<{ data: Float32Array; fixed: boolean }> {
    const { y, fixed } = await this.run(x, w, h);
    try {
      return { data: (await y.getData()) as Float32Array, fixed };
    } finally {
      y.dispose(); // (a CPU tensor's data stays ours)
    }
  }

  async onGpu(x: Float32Array, w: number, h: number): Promise<GpuOutput> {
    const { y, fixed } = await this.run(x, w, h);
    if (y.location !== 'gpu-buffer') {
      y.dispose();
      throw new Error(`the output is on '${y.location}', not in a GPU buffer`);
    }
    return { buffer: y.gpuBuffer as unknown as GpuBuffer, fixed, dispose: () => y.dispose() };
  }

  release(): Promise<void> {
    return this.pool.release();
  }

  private async run(x: Float32Array, tw: number, th: number): Promise<{ y: OrtTensor; fixed: boolean }> {
    const { session, fixed } = await this.pool.get(tw, th);
    // the proxy worker takes ownership of (detaches) the input's buffer: give it a copy, not ours
    const input = this.ort.env.wasm.proxy ? x.slice() : x;
    const out = await session.run({ [this.model.input]: new this.ort.Tensor('float32', input, [1, 3, th, tw]) });
    return { y: out[this.model.output] as OrtTensor, fixed };
  }
}

/**
 * Runs frames through one loaded model on one engine. Immutable once made, so a frame that
 * started on it finishes on it even if the player falls back meanwhile.
 */
export class Runner {
  private frame?: FrameInput;

  constructor(
    readonly model: ModelInfo,
    private readonly engine: TileEngine,
    /** CommonOptions.tile. */
    private readonly tile?: number,
  ) {}

  /** Whether frames of this level are for this model: a level made for another gets bilinear, not wrong output. */
  accepts(level: FrameLevel): boolean {
    return this.model.scale === level.scale && (!level.model || level.model === this.model.id);
  }

  inputFor(w: number, h: number): FrameInput {
    const f = this.frame;
    if (f && f.w === w && f.h === h) return f;
    this.frame = this.plan(w, h);
    return this.frame;
  }

  /**
   * Runs a blank frame of each size once, so that each level's session exists (and on WebGPU its
   * kernels are compiled) before its first real frame. At most as many sizes as the session pool
   * keeps; a size that fails here is left to fail (and fall back) on its first real frame.
   */
  async warmUp(sizes: { width: number; height: number }[]): Promise<void> {
    const seen = new Set<string>();
    for (const { width: w, height: h } of sizes) {
      if (seen.has(`${w}x${h}`) || seen.size >= this.engine.max || !w || !h) continue;
      seen.add(`${w}x${h}`);
      try {
        (await this.infer(this.plan(w, h))).dispose();
      } catch {
        // the frame loop reports it if it happens again on a real frame
      }
    }
  }

  private plan(w: number, h: number): FrameInput {
    const side = this.tile ?? (w * h > 960 * 540 ? 480 : 0);
    const r = this.model.receptiveRadius;
    const tiles = planTiles(w, h, side > 0 ? side : Math.max(w, h), r);
    return { w, h, input: new Float32Array(3 * w * h), tiles };
  }

  /** Runs every tile of `f`; with `gpu`, outputs stay on the GPU for the presenter. */
  async infer(f: FrameInput, gpu?: GpuQueue): Promise<Inference> {
    const outputs: GpuOutput[] = [];
    const res: Inference = { fixedShape: true, dispose: () => outputs.forEach((y) => y.dispose()) };
    try {
      if (gpu) res.parts = await this.onGpu(f, res, outputs, gpu);
      else res.planar = await this.downloaded(f, res);
      return res;
    } catch (e) {
      res.dispose();
      throw e;
    }
  }

  /** Releases the engine. Call when no frame is in flight. */
  release(): Promise<void> {
    return this.engine.release();
  }

  private async downloaded(f: FrameInput, res: Inference): Promise<Float32Array> {
    const download = async (x: Float32Array, tw: number, th: number): Promise<Float32Array> => {
      const { data, fixed } = await this.engine.download(x, tw, th);
      res.fixedShape &&= fixed;
      return data;
    };
    const { w, h, tiles: t } = f;
    // one tile for the whole frame: its output is the frame, no copy needed
    if (t.length === 1 && t[0].px1 - t[0].px0 === w && t[0].py1 - t[0].py0 === h) return download(f.input, w, h);
    const s = this.model.scale;
    return runTiled(f.input, w, h, s, t, download, (f.output ??= new Float32Array(3 * w * h * s * s)));
  }

  private async onGpu(f: FrameInput, res: Inference, outputs: GpuOutput[], gpu: GpuQueue): Promise<GpuPart[]> {
    const parts = await runTiles(f.input, f.w, f.h, this.model.scale, f.tiles, async (x, tw, th) => {
      const y = await this.engine.onGpu(x, tw, th);
      outputs.push(y);
      res.fixedShape &&= y.fixed;
      return y.buffer;
    });
    // run() resolves once the work is queued; waiting for the GPU makes the infer time real (the
    // adaptive controller relies on it) and keeps at most one frame queued
    await gpu.done();
    return parts;
  }
}
