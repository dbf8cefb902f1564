import type { AdaptiveController } from './adaptive.js';
import type { Drawing } from './drawing.js';
import { FrameGrabber } from './frames.js';
import type { Levels } from './levels.js';
import type { Network } from './network.js';
import type { Inference, Runner } from './runner.js';
import type { Stats } from './stats.js';
import type { Mode } from './types.js';

export interface LoopParts {
  video: HTMLVideoElement;
  levels: Levels;
  network: Network;
  drawing: Drawing;
  stats: Stats;
  adaptive: AdaptiveController;
}

export interface LoopHooks {
  /** The network cannot go on: everything is drawn bilinearly from now on. */
  fail(reason: string): void;
  /** A frame on the WebGPU draw path failed: outputs are downloaded from now on. */
  gpuDrawFailed(reason: string): void;
}

/** How the frame on screen is drawn, and at what scale. */
type Route = { how: 'passthrough' | 'bilinear'; scale: number } | { how: 'network'; scale: number; runner: Runner };

/**
 * The video's frames, one by one (requestVideoFrameCallback, and pause/seek for a still frame):
 * each is drawn as is, scaled bilinearly, or run through the network, at most one run at a time.
 */
export class FrameLoop {
  private rvfc: number;
  private inFlight?: Promise<void>;
  private refinePending = false;
  private destroyed = false;
  private lastMediaTime = NaN;
  private readonly grabber = new FrameGrabber();

  constructor(
    private readonly p: LoopParts,
    private readonly hooks: LoopHooks,
  ) {
    p.video.addEventListener('pause', this.refine);
    p.video.addEventListener('seeked', this.refine);
    this.rvfc = p.video.requestVideoFrameCallback(this.onFrame);
  }

  /** True when no network run is in flight or queued (a paused video's frame is final then). */
  get idle(): boolean {
    return !this.inFlight && !this.refinePending;
  }

  async whenIdle(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  /** What frames of the level on screen get now. */
  modeNow(): Mode {
    const w = this.p.video.videoWidth;
    const r = this.route(w, this.p.video.videoHeight);
    return !w || r.how === 'network' ? this.p.adaptive.mode : r.how;
  }

  /** Once the network is ready: a video already paused gets its still frame upscaled now. */
  stillFrame(lostByProbe: boolean): void {
    const v = this.p.video;
    if (lostByProbe && v.paused && v.readyState >= 2 && !v.seeking) {
      // the probe's device loss blanked the frame a paused video holds (src/player/gpu.ts):
      // seeking to where it is decodes it again, and 'seeked' upscales it
      const at = v.currentTime;
      v.currentTime = at;
    } else this.refine();
  }

  destroy(): void {
    this.destroyed = true;
    this.p.video.cancelVideoFrameCallback(this.rvfc);
    this.p.video.removeEventListener('pause', this.refine);
    this.p.video.removeEventListener('seeked', this.refine);
  }

  private readonly refine = (): void => {
    // a still frame deserves the network even when playback had degraded to bilinear
    const v = this.p.video;
    if (!this.destroyed && v.paused && v.readyState >= 2) this.handle(v.currentTime, true);
  };

  private readonly onFrame = (_now: number, meta: VideoFrameCallbackMetadata): void => {
    if (this.destroyed) return;
    const v = this.p.video;
    this.rvfc = v.requestVideoFrameCallback(this.onFrame);
    try {
      this.p.adaptive.reportInterval(((meta.mediaTime - this.lastMediaTime) * 1000) / (v.playbackRate || 1));
      this.lastMediaTime = meta.mediaTime;
      this.handle(meta.mediaTime, v.paused);
    } catch (e) {
      this.hooks.fail(`frame handling failed: ${(e as Error).message}`);
    }
  };

  private route(w: number, h: number): Route {
    const level = this.p.levels.resolve(w, h);
    if (!level.scale) return { how: 'passthrough', scale: 1 };
    const runner = this.p.network.runner;
    return runner?.accepts(level) ? { how: 'network', scale: level.scale, runner } : { how: 'bilinear', scale: level.scale };
  }

  /** `force`: a still frame, upscaled even when degraded, and refined later when the network is busy. */
  private handle(mediaTime: number, force: boolean): void {
    const { videoWidth: w, videoHeight: h } = this.p.video;
    if (!w || !h) return;
    const { drawing, stats, adaptive } = this.p;
    const r = this.route(w, h);
    if (r.how !== 'network') {
      stats.mode = r.how;
      drawing.scaled(r.how, w * r.scale, h * r.scale, mediaTime);
      return;
    }
    stats.mode = adaptive.mode;
    if (this.inFlight) {
      if (force) this.refinePending = true;
      else stats.droppedFrames++;
    } else if (!force && !adaptive.shouldUpscale()) drawing.scaled('bilinear', w * r.scale, h * r.scale, mediaTime);
    else {
      this.inFlight = this.upscale(r.runner, w, h, mediaTime).finally(() => {
        this.inFlight = undefined;
        if (!this.refinePending) return;
        this.refinePending = false;
        this.refine();
      });
    }
  }

  private async upscale(runner: Runner, w: number, h: number, mediaTime: number): Promise<void> {
    const { video, drawing, stats, adaptive } = this.p;
    const t0 = performance.now();
    const drawsAtStart = drawing.drawCount;
    const gpu = drawing.gpu;
    let inf: Inference | undefined;
    try {
      const { model } = runner;
      const f = runner.inputFor(w, h);
      const colourPath = await this.grabber.grab(video, w, h, f.input, model.inScale);
      const t1 = performance.now();
      inf = await runner.infer(f, gpu);
      const t2 = performance.now();
      // stale: the player is gone, or the canvas already shows a later frame (a level switch to
      // a source level, a fallback) that this older frame must not overwrite
      if (this.destroyed || drawing.drawCount !== drawsAtStart) return;
      const [W, H] = [w * model.scale, h * model.scale];
      const output = drawing.neural(inf, gpu, W, H, model.inScale);
      const t3 = performance.now();
      stats.recordRun(t3 - t0, { grab: t1 - t0, infer: t2 - t1, draw: t3 - t2 });
      drawing.drawn({ kind: 'neural', mediaTime, width: W, height: H, colourPath, tiles: f.tiles.length, output, fixedShape: inf.fixedShape });
      stats.mode = adaptive.reportInference(t3 - t0);
    } catch (e) {
      if (this.destroyed) return;
      // on the GPU path the sessions' outputs can still be downloaded and drawn (if running itself
      // is what fails, the next frame fails again and falls back to bilinear)
      if (gpu && gpu === drawing.gpu) this.hooks.gpuDrawFailed(`a frame on the WebGPU draw path failed: ${(e as Error).message}`);
      else this.hooks.fail(`upscaling failed: ${(e as Error).message}`);
    } finally {
      inf?.dispose();
    }
  }
}
