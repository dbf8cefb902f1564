import { packedToPlanar } from '../shared/image.js';
import { chromaSize, i420ToPlanarRgb } from '../shared/yuv.js';

export type ColourPath = 'i420' | 'nv12' | 'canvas';

/**
 * Turns the frame a <video> shows into the planar RGB tensor the network takes, in buffers
 * reused from frame to frame. The exact path reads the decoder's own YUV planes through WebCodecs
 * and converts them with src/shared/yuv.ts, the function the encoder used, so the network sees
 * the very numbers the encoder optimized for. When the browser hands out another pixel format
 * (or no VideoFrame at all) it falls back to drawImage + getImageData: the browser's own YUV->RGB
 * conversion then differs slightly (its chroma filter and 8-bit rounding), typically well under
 * one code value on smooth areas, a few on sharp chroma edges.
 */
export class FrameGrabber {
  private yuv = new Uint8Array(0);
  private u = new Uint8Array(0);
  private v = new Uint8Array(0);
  private scratch?: HTMLCanvasElement;
  private scratchCtx?: CanvasRenderingContext2D;

  async grab(video: HTMLVideoElement, width: number, height: number, out: Float32Array, inScale: number): Promise<ColourPath> {
    let frame: VideoFrame | undefined;
    try {
      frame = typeof VideoFrame === 'function' ? new VideoFrame(video) : undefined;
    } catch {
      frame = undefined; // no frame decoded yet, or a tainted source
    }
    if (frame) {
      try {
        const r = frame.visibleRect;
        if (r && r.width === width && r.height === height && (frame.format === 'I420' || frame.format === 'NV12')) {
          return await this.fromPlanes(frame, width, height, out, inScale);
        }
      } finally {
        frame.close();
      }
    }
    this.fromCanvas(video, width, height, out, inScale);
    return 'canvas';
  }

  private async fromPlanes(frame: VideoFrame, w: number, h: number, out: Float32Array, inScale: number): Promise<ColourPath> {
    const { cw, ch } = chromaSize(w, h);
    const ny = w * h;
    const nc = cw * ch;
    if (this.yuv.length !== ny + 2 * nc) this.yuv = new Uint8Array(ny + 2 * nc);
    if (frame.format === 'I420') {
      // explicit tight layout, so the planes are where i420ToPlanarRgb expects them
      await frame.copyTo(this.yuv, {
        layout: [
          { offset: 0, stride: w },
          { offset: ny, stride: cw },
          { offset: ny + nc, stride: cw },
        ],
      });
      i420ToPlanarRgb(this.yuv.subarray(0, ny), this.yuv.subarray(ny, ny + nc), this.yuv.subarray(ny + nc), w, h, out, { scale: inScale });
      return 'i420';
    }
    // NV12: interleaved UV; split it into the two planes
    await frame.copyTo(this.yuv, { layout: [{ offset: 0, stride: w }, { offset: ny, stride: 2 * cw }] });
    if (this.u.length !== nc) {
      this.u = new Uint8Array(nc);
      this.v = new Uint8Array(nc);
    }
    for (let i = 0; i < nc; i++) {
      this.u[i] = this.yuv[ny + 2 * i];
      this.v[i] = this.yuv[ny + 2 * i + 1];
    }
    i420ToPlanarRgb(this.yuv.subarray(0, ny), this.u, this.v, w, h, out, { scale: inScale });
    return 'nv12';
  }

  private fromCanvas(video: HTMLVideoElement, w: number, h: number, out: Float32Array, inScale: number): void {
    if (!this.scratch) {
      this.scratch = document.createElement('canvas');
      this.scratchCtx = this.scratch.getContext('2d', { willReadFrequently: true }) ?? undefined;
    }
    const ctx = this.scratchCtx;
    if (!ctx) throw new Error('no 2D canvas context for reading frames');
    if (this.scratch.width !== w || this.scratch.height !== h) {
      this.scratch.width = w;
      this.scratch.height = h;
    }
    ctx.drawImage(video, 0, 0, w, h);
    packedToPlanar(ctx.getImageData(0, 0, w, h).data, w, h, { channels: 4, scale: inScale, out });
  }
}
