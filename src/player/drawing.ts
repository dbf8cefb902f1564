import { GpuPresenter, probeCanvas, type GpuDevice } from './gpu.js';
import { packRgba } from './pack.js';
import type { Inference } from './runner.js';
import type { LastDraw, OutputPath } from './types.js';

/**
 * The page's canvas: frames scaled by the browser (bilinear or as they are) and network outputs,
 * drawn from the CPU or, on WebGPU, by a presenter on onnxruntime-web's device.
 */
export class Drawing {
  /** What the canvas shows now. */
  lastDraw?: LastDraw;
  /** Frames drawn so far, by any path. */
  drawCount = 0;
  /** Draws WebGPU outputs on the GPU; unset on WASM or when that is not possible here. */
  gpu?: GpuPresenter;
  private readonly ctx: CanvasRenderingContext2D;
  private image?: ImageData;
  private probe: { problem?: string; lost: boolean } = { lost: false };
  private destroyed = false;

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly canvas: HTMLCanvasElement,
    private readonly onDraw: (d: LastDraw) => void,
    /** Resolves when no frame is in flight. */
    private readonly whenIdle: () => Promise<void>,
  ) {
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('hcd-player: the canvas has no 2D context');
    this.ctx = ctx;
  }

  /** The video's current frame at `w` x `h`, scaled by the browser. */
  scaled(kind: 'bilinear' | 'passthrough', w: number, h: number, mediaTime: number): void {
    this.size(w, h);
    this.ctx.imageSmoothingEnabled = true;
    this.ctx.imageSmoothingQuality = 'low'; // bilinear in Chromium and Firefox
    this.ctx.drawImage(this.video, 0, 0, w, h);
    this.drawn({ kind, mediaTime, width: w, height: h });
  }

  /** A `w` x `h` network output; GPU parts need the presenter they were run for. */
  neural(inf: Inference, gpu: GpuPresenter | undefined, w: number, h: number, inScale: number): OutputPath {
    this.size(w, h);
    if (inf.parts && gpu) {
      gpu.present(this.ctx, w, h, inf.parts);
      return 'gpu-buffer';
    }
    if (!inf.planar) throw new Error('the network gave no output to draw');
    if (this.image?.width !== w || this.image.height !== h) this.image = new ImageData(w, h);
    packRgba(inf.planar, w * h, 1 / inScale, this.image.data);
    this.ctx.putImageData(this.image, 0, 0);
    return 'cpu';
  }

  drawn(d: LastDraw): void {
    this.lastDraw = d;
    this.drawCount++;
    this.onDraw(d);
  }

  /**
   * Whether the WebGPU draw path can work here, checked before onnxruntime-web has a device: a
   * failing check can take every device of the page down.
   */
  async probeGpu(): Promise<void> {
    this.probe = await probeCanvas();
  }

  /** The probe lost the GPU device, and with it the frame a paused video holds (src/player/gpu.ts). */
  get probeLostFrame(): boolean {
    return this.probe.lost;
  }

  /** Draws WebGPU outputs with a presenter on `device`; returns why it cannot, if so. */
  async useGpu(device: () => Promise<GpuDevice>, scale: number): Promise<string | undefined> {
    try {
      if (this.probe.problem) throw new Error(this.probe.problem);
      const gpu = await GpuPresenter.create(await device(), scale);
      if (this.destroyed) gpu.destroy();
      else {
        this.dropGpu(); // one left from the previous source's model
        this.gpu = gpu;
      }
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  }

  /** Stops drawing on the GPU; a frame still in flight finishes with the presenter first. */
  dropGpu(): void {
    const gpu = this.gpu;
    this.gpu = undefined;
    if (gpu) void this.whenIdle().then(() => gpu.destroy());
  }

  destroy(): void {
    this.destroyed = true;
    this.dropGpu();
    this.image = undefined;
  }

  private size(w: number, h: number): void {
    // assigning a size clears the canvas even when unchanged, so only on a real change
    if (this.canvas.width !== w) this.canvas.width = w;
    if (this.canvas.height !== h) this.canvas.height = h;
  }
}
