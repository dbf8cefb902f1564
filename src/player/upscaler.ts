import { ATTR_MODEL, ATTR_UPSCALE, SESSION_DATA_ID } from '../shared/hls.js';
import { AdaptiveController } from './adaptive.js';
import { Emitter } from './emitter.js';
import { FrameGrabber } from './frames.js';
import { GpuPresenter, probeCanvas, type GpuBuffer, type GpuDevice, type GpuPart } from './gpu.js';
import { configureOrt, createSession, loadModel, loadOrt, webgpuUsable, type ModelInfo } from './model.js';
import { packRgba } from './pack.js';
import { SessionPool } from './sessions.js';
import { planTiles, runTiled, runTiles, type Tile } from './tiling.js';
import type {
  AttachOptions,
  Backend,
  BackendInfo,
  CommonOptions,
  HcdEvents,
  HcdStats,
  HcdUpscalerOptions,
  HlsLike,
  LastDraw,
  Mode,
  Ort,
  OrtTensor,
  StageMs,
} from './types.js';

const EV_MANIFEST_PARSED = 'hlsManifestParsed';
const EV_LEVEL_SWITCHED = 'hlsLevelSwitched';

interface LevelInfo {
  index: number;
  /** 0 for a source level (drawn as is). */
  scale: number;
  model?: string;
}

interface Buffers {
  w: number;
  h: number;
  input: Float32Array;
  /** The CPU path's stitched output (tiled frames only) and image; the GPU path needs neither. */
  output?: Float32Array;
  image?: ImageData;
  tiles: Tile[];
}

/**
 * Upscales every frame of an hls.js (or plain <video>) playback onto a canvas with the session's
 * learned upscaler. The video element keeps playing (audio, clock, buffering); the page shows the
 * canvas instead of it. See docs/player.md.
 */
export class HcdUpscaler {
  private readonly video: HTMLVideoElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly hls?: HlsLike;
  private readonly opts: CommonOptions;
  private readonly events = new Emitter<HcdEvents>();
  private readonly adaptive: AdaptiveController;
  private readonly grabber = new FrameGrabber();
  /** LR/source levels by frame size "WxH"; without hls.js every size maps to the model's scale. */
  private levels = new Map<string, LevelInfo>();
  private model?: ModelInfo;
  private ort?: Ort;
  /** The sessions (one per input shape); set once the model is ready, unset after a fallback. */
  private pool?: SessionPool;
  /** Draws WebGPU outputs on the GPU; unset on WASM or when that is not possible here. */
  private gpu?: GpuPresenter;
  private backend: Backend | 'none' = 'none';
  private buffers?: Buffers;
  private rvfc = 0;
  private busy = false;
  private refinePending = false;
  private destroyed = false;
  private lastMediaTime = NaN;
  private mode: Mode = 'bilinear';
  private drawsInWindow = 0;
  private windowStart = 0;
  private fps = 0;
  private droppedFrames = 0;
  private upscaledFrames = 0;
  private level = -1;
  private statsTimer: ReturnType<typeof setInterval> | undefined;
  /** What the canvas shows now (for tests and diagnostics). */
  lastDraw?: LastDraw;
  /** Frames drawn so far, by any path. */
  drawCount = 0;
  /** Times (ms) of the last network runs, frame grab to drawn output, oldest first (for benchmarks). */
  readonly recentRunMs: number[] = [];
  /** The same runs' stages, for benchmarks. */
  readonly recentStages: StageMs[] = [];
  /** Settles when the model is loaded (or has failed and the player fell back). */
  readonly ready: Promise<void>;
  private resolveReady!: () => void;

  constructor(opts: HcdUpscalerOptions | (CommonOptions & { video: HTMLVideoElement; hls?: undefined; modelUrl?: string; scale?: number })) {
    this.video = opts.video;
    this.canvas = opts.canvas;
    this.hls = opts.hls;
    this.opts = opts;
    const ctx = this.canvas.getContext('2d');
    if (!ctx) throw new Error('hcd-player: the canvas has no 2D context');
    this.ctx = ctx;
    this.adaptive = new AdaptiveController({ enabled: opts.adaptive ?? true });
    this.ready = new Promise((r) => (this.resolveReady = r));
    if (this.hls) {
      this.hls.on(EV_MANIFEST_PARSED, this.onManifestParsed);
      this.hls.on(EV_LEVEL_SWITCHED, this.onLevelSwitched);
    }
    this.video.addEventListener('pause', this.onPauseOrSeek);
    this.video.addEventListener('seeked', this.onPauseOrSeek);
    this.rvfc = this.video.requestVideoFrameCallback(this.onFrame);
    this.windowStart = performance.now();
    this.statsTimer = setInterval(this.emitStats, opts.statsIntervalMs ?? 1000);
    const bare = opts as { modelUrl?: string; scale?: number };
    if (!this.hls && bare.modelUrl) void this.start(bare.modelUrl, bare.scale);
  }

  /** For a plain <video> without hls.js: every frame is upscaled with the model at `modelUrl`. */
  static attach(video: HTMLVideoElement, opts: AttachOptions): HcdUpscaler {
    return new HcdUpscaler({ ...opts, video, hls: undefined });
  }

  on<K extends keyof HcdEvents>(name: K, cb: (data: HcdEvents[K]) => void): void {
    this.events.on(name, cb);
  }

  off<K extends keyof HcdEvents>(name: K, cb: (data: HcdEvents[K]) => void): void {
    this.events.off(name, cb);
  }

  get stats(): HcdStats {
    return {
      backend: this.backend,
      fps: this.fps,
      msPerFrame: this.adaptive.msPerFrame,
      droppedFrames: this.droppedFrames,
      upscaledFrames: this.upscaledFrames,
      mode: this.mode,
      level: this.level,
    };
  }

  /** True when no network run is in flight or queued (a paused video's frame is final then). */
  get idle(): boolean {
    return !this.busy && !this.refinePending;
  }

  /** Stops drawing and frees the session, callbacks, listeners and buffers. Safe to call twice. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.video.cancelVideoFrameCallback(this.rvfc);
    this.video.removeEventListener('pause', this.onPauseOrSeek);
    this.video.removeEventListener('seeked', this.onPauseOrSeek);
    if (this.hls) {
      this.hls.off(EV_MANIFEST_PARSED, this.onManifestParsed);
      this.hls.off(EV_LEVEL_SWITCHED, this.onLevelSwitched);
    }
    clearInterval(this.statsTimer);
    this.events.clear();
    this.releaseNetwork();
    this.buffers = undefined;
    this.resolveReady();
  }

  /** Drops the sessions and the GPU presenter; a run still in flight finishes first, never during it. */
  private releaseNetwork(): void {
    const pool = this.pool;
    const gpu = this.gpu;
    this.pool = undefined;
    this.gpu = undefined;
    if (pool || gpu) {
      void this.whenIdle().then(() => {
        gpu?.destroy();
        return pool?.release();
      });
    }
  }

  private async whenIdle(): Promise<void> {
    while (this.busy) await new Promise((r) => setTimeout(r, 5));
  }

  // ---- model and session -------------------------------------------------------------------

  private readonly onManifestParsed = (_e: string, data: unknown): void => {
    const d = data as { sessionData?: Record<string, Record<string, string | undefined>> | null };
    const hls = this.hls!;
    let lr = 0;
    this.levels.clear();
    hls.levels.forEach((l, index) => {
      const s = Number(l.attrs[ATTR_UPSCALE] ?? 0);
      const scale = Number.isInteger(s) && s >= 2 ? s : 0;
      if (scale) lr++;
      this.levels.set(`${l.width}x${l.height}`, { index, scale, model: l.attrs[ATTR_MODEL] });
    });
    if (lr === 0) {
      this.resolveReady();
      return; // nothing to upscale: every level is drawn as it is
    }
    // hls.js caps ABR to levels no larger than the player's size in CSS pixels. An LR rendition is
    // half (or less) the size it will be shown at, so with capping hls.js would judge it by its
    // coded size and always prefer the bigger source levels; the canvas, not the <video>, is what
    // the viewer sees. So capping is off whenever LR levels exist.
    hls.capLevelToPlayerSize = false;
    const uri = d.sessionData?.[SESSION_DATA_ID]?.URI;
    if (!uri) {
      this.fail(`the master playlist has ${lr} upscaled level(s) but no ${SESSION_DATA_ID} session data`);
      return;
    }
    const base = hls.url ?? globalThis.location.href;
    void this.start(new URL(uri, new URL(base, globalThis.location.href)).href);
  };

  private readonly onLevelSwitched = (_e: string, data: unknown): void => {
    const lvl = (data as { level?: number }).level;
    if (typeof lvl === 'number') this.level = lvl;
  };

  private async start(url: string, bareScale?: number): Promise<void> {
    try {
      const wasmPaths = this.opts.wasmPaths ?? '/ort/';
      const choice = this.opts.backend ?? 'auto';
      this.ort = await loadOrt({ ort: this.opts.ort, ortUrl: this.opts.ortUrl, wasmPaths });
      const gpuProblem = choice === 'wasm' ? 'WASM requested' : await webgpuUsable();
      configureOrt(this.ort, { wasmPaths, numThreads: this.opts.numThreads, proxy: this.opts.proxy ?? !!gpuProblem });
      const model = await loadModel(url, bareScale);
      if (this.destroyed) return;
      const keepOnGpu = !gpuProblem && (this.opts.keepOnGpu ?? true);
      // before onnxruntime-web has a device: a failing check can take every device of the page down
      const probe: { problem?: string; lost: boolean } = keepOnGpu ? await probeCanvas() : { lost: false };
      const drawProblem = probe.problem;
      const res = await createSession(this.ort, model.bytes, choice, gpuProblem);
      if (this.destroyed) {
        await res.session.release();
        return;
      }
      if (!model.input) model.input = res.session.inputNames[0];
      if (!model.output) model.output = res.session.outputNames[0];
      const info: BackendInfo = { backend: res.backend, output: 'cpu' };
      if (res.backend === 'webgpu' && keepOnGpu) {
        try {
          if (drawProblem) throw new Error(drawProblem);
          // onnxruntime-web's own device: its output buffers can only be used there
          const device = (await this.ort.env.webgpu.device) as unknown as GpuDevice;
          this.gpu = await GpuPresenter.create(device, 1 / model.inScale);
          info.output = 'gpu-buffer';
        } catch (e) {
          info.outputProblem = `outputs are downloaded: ${(e as Error).message}`;
        }
      }
      if (this.destroyed) {
        this.gpu?.destroy();
        this.gpu = undefined;
        await res.session.release();
        return;
      }
      this.model = model;
      this.pool = new SessionPool(this.ort, model.bytes, res.options, res.session, model.input);
      this.backend = res.backend;
      // the level playing now may be one this model must not upscale: say what its frames get
      const { scale, model: levelModel } = this.levelFor(this.video.videoWidth, this.video.videoHeight);
      const usable = model.scale === scale && (!levelModel || levelModel === model.id);
      this.mode = !this.video.videoWidth || usable ? this.adaptive.mode : scale ? 'bilinear' : 'passthrough';
      if (res.webgpuProblem && (this.opts.backend ?? 'auto') === 'auto') this.events.emit('fallback', { reason: res.webgpuProblem, to: 'wasm' });
      this.events.emit('backend', info);
      if (probe.lost && this.video.paused && this.video.readyState >= 2 && !this.video.seeking) {
        // the probe's device loss blanked the frame a paused video holds (src/player/gpu.ts):
        // seeking to where it is decodes it again, and 'seeked' upscales it
        const at = this.video.currentTime;
        this.video.currentTime = at;
      } else this.onPauseOrSeek(); // a video already paused gets its still frame upscaled now
    } catch (e) {
      this.fail((e as Error).message);
    } finally {
      this.resolveReady();
    }
  }

  private fail(reason: string): void {
    if (this.destroyed) return;
    this.releaseNetwork();
    this.backend = 'none';
    this.mode = 'bilinear';
    this.events.emit('fallback', { reason, to: 'bilinear' });
    this.resolveReady();
  }

  // ---- frames ------------------------------------------------------------------------------

  /** The scale for a frame of this size (0 draws it as is) and the model its level names. */
  private levelFor(w: number, h: number): { scale: number; model?: string } {
    if (!this.hls) return { scale: this.model?.scale ?? (this.opts as { scale?: number }).scale ?? 2 };
    const l = this.levels.get(`${w}x${h}`);
    if (l) this.level = l.index;
    return { scale: l?.scale ?? 0, model: l?.model };
  }

  private readonly onFrame = (_now: number, meta: VideoFrameCallbackMetadata): void => {
    if (this.destroyed) return;
    this.rvfc = this.video.requestVideoFrameCallback(this.onFrame);
    try {
      this.adaptive.reportInterval(((meta.mediaTime - this.lastMediaTime) * 1000) / (this.video.playbackRate || 1));
      this.lastMediaTime = meta.mediaTime;
      this.handleFrame(meta.mediaTime, this.video.paused);
    } catch (e) {
      this.fail(`frame handling failed: ${(e as Error).message}`);
    }
  };

  private readonly onPauseOrSeek = (): void => {
    // a still frame deserves the network even when playback had degraded to bilinear
    if (!this.destroyed && this.video.paused && this.video.readyState >= 2) this.handleFrame(this.video.currentTime, true);
  };

  private handleFrame(mediaTime: number, force: boolean): void {
    const w = this.video.videoWidth;
    const h = this.video.videoHeight;
    if (!w || !h) return;
    const { scale: s, model: levelModel } = this.levelFor(w, h);
    if (!s) {
      this.mode = 'passthrough';
      this.draw(w, h, 'passthrough', mediaTime);
      return;
    }
    // a level made for another model or scale than the session's gets bilinear, not wrong output
    const usable = this.model && this.model.scale === s && (!levelModel || levelModel === this.model.id);
    if (!this.pool || !this.model || !usable) {
      this.mode = 'bilinear';
      this.draw(w * s, h * s, 'bilinear', mediaTime);
      return;
    }
    this.mode = this.adaptive.mode;
    if (this.busy) {
      if (force) this.refinePending = true;
      else this.droppedFrames++;
      return;
    }
    if (!force && !this.adaptive.shouldUpscale()) {
      this.draw(w * s, h * s, 'bilinear', mediaTime);
      return;
    }
    this.busy = true;
    void this.upscale(w, h, this.model.scale, mediaTime).finally(() => {
      this.busy = false;
      if (this.refinePending) {
        this.refinePending = false;
        this.onPauseOrSeek();
      }
    });
  }

  private draw(w: number, h: number, kind: 'bilinear' | 'passthrough', mediaTime: number): void {
    this.sizeCanvas(w, h);
    this.ctx.imageSmoothingEnabled = true;
    this.ctx.imageSmoothingQuality = 'low'; // bilinear in Chromium and Firefox
    this.ctx.drawImage(this.video, 0, 0, w, h);
    this.drawn({ kind, mediaTime, width: w, height: h });
  }

  private drawn(d: LastDraw): void {
    this.lastDraw = d;
    this.drawsInWindow++;
    this.drawCount++;
  }

  private sizeCanvas(w: number, h: number): void {
    // assigning a size clears the canvas even when unchanged, so only on a real change
    if (this.canvas.width !== w) this.canvas.width = w;
    if (this.canvas.height !== h) this.canvas.height = h;
  }

  private buffersFor(w: number, h: number): Buffers {
    const b = this.buffers;
    if (b && b.w === w && b.h === h) return b;
    const tileOpt = this.opts.tile ?? (w * h > 960 * 540 ? 480 : 0);
    const r = this.model!.receptiveRadius;
    const tiles = tileOpt > 0 ? planTiles(w, h, tileOpt, r) : planTiles(w, h, Math.max(w, h), r);
    this.buffers = { w, h, input: new Float32Array(3 * w * h), tiles };
    return this.buffers;
  }

  private async upscale(w: number, h: number, s: number, mediaTime: number): Promise<void> {
    const t0 = performance.now();
    const drawsAtStart = this.drawCount;
    const gpu = this.gpu;
    // WebGPU outputs stay alive until they are drawn
    const outputs: OrtTensor[] = [];
    try {
      const model = this.model!;
      const pool = this.pool!;
      const ort = this.ort!;
      const buf = this.buffersFor(w, h);
      const colourPath = await this.grabber.grab(this.video, w, h, buf.input, model.inScale);
      const t1 = performance.now();
      let fixedShape = true;
      const run = async (x: Float32Array, tw: number, th: number): Promise<OrtTensor> => {
        const { session, fixed } = await pool.get(tw, th);
        fixedShape &&= fixed;
        // the proxy worker takes ownership of (detaches) the input's buffer: give it a copy, not ours
        const input = ort.env.wasm.proxy ? x.slice() : x;
        const res = await session.run({ [model.input]: new ort.Tensor('float32', input, [1, 3, th, tw]) });
        return res[model.output] as OrtTensor;
      };
      let parts: GpuPart[] | undefined;
      let planar: Float32Array | undefined;
      const download = async (x: Float32Array, tw: number, th: number): Promise<Float32Array> => {
        const y = await run(x, tw, th);
        try {
          return (await y.getData()) as Float32Array;
        } finally {
          y.dispose(); // (a CPU tensor's data stays ours)
        }
      };
      const t = buf.tiles;
      if (gpu) parts = await this.runOnGpu(buf, s, run, outputs, gpu);
      // one tile for the whole frame: its output is the frame, no copy needed
      else if (t.length === 1 && t[0].px1 - t[0].px0 === w && t[0].py1 - t[0].py0 === h) planar = await download(buf.input, w, h);
      else planar = await runTiled(buf.input, w, h, s, t, download, (buf.output ??= new Float32Array(3 * w * h * s * s)));
      const t2 = performance.now();
      // stale: the player is gone, or the canvas already shows a later frame (a level switch to
      // a source level, a fallback) that this older frame must not overwrite
      if (this.destroyed || this.buffers !== buf || this.drawCount !== drawsAtStart) return;
      this.sizeCanvas(w * s, h * s);
      if (parts) gpu!.present(this.ctx, w * s, h * s, parts);
      else {
        buf.image ??= new ImageData(w * s, h * s);
        packRgba(planar!, w * s * h * s, 1 / model.inScale, buf.image.data);
        this.ctx.putImageData(buf.image, 0, 0);
      }
      const t3 = performance.now();
      this.upscaledFrames++;
      const output = parts ? 'gpu-buffer' : 'cpu';
      this.drawn({ kind: 'neural', mediaTime, width: w * s, height: h * s, colourPath, tiles: buf.tiles.length, output, fixedShape });
      this.record(t3 - t0, { grab: t1 - t0, infer: t2 - t1, draw: t3 - t2 });
    } catch (e) {
      if (this.destroyed) return;
      if (gpu && gpu === this.gpu) {
        // a frame on the GPU path failed: the sessions' outputs can still be downloaded and drawn
        // (if running itself is what fails, the next frame fails again and falls back to bilinear)
        this.gpu = undefined;
        void this.whenIdle().then(() => gpu.destroy());
        this.events.emit('backend', { backend: 'webgpu', output: 'cpu', outputProblem: `a frame on the WebGPU draw path failed: ${(e as Error).message}` });
      } else this.fail(`upscaling failed: ${(e as Error).message}`);
    } finally {
      for (const y of outputs) y.dispose();
    }
  }

  /** Runs every tile on WebGPU; the outputs stay on the GPU, listed in `outputs` for disposal. */
  private async runOnGpu(
    buf: Buffers,
    s: number,
    run: (x: Float32Array, tw: number, th: number) => Promise<OrtTensor>,
    outputs: OrtTensor[],
    gpu: GpuPresenter,
  ): Promise<GpuPart[]> {
    const res = await runTiles(buf.input, buf.w, buf.h, s, buf.tiles, async (x, tw, th) => {
      const y = await run(x, tw, th);
      outputs.push(y);
      if (y.location !== 'gpu-buffer') throw new Error(`the output is on '${y.location}', not in a GPU buffer`);
      return y.gpuBuffer as unknown as GpuBuffer;
    });
    // run() resolves once the work is queued; waiting for the GPU makes the infer time real (the
    // adaptive controller relies on it) and keeps at most one frame queued
    await gpu.done();
    return res;
  }

  private record(ms: number, stages: StageMs): void {
    this.recentRunMs.push(ms);
    this.recentStages.push(stages);
    if (this.recentRunMs.length > 240) {
      this.recentRunMs.shift();
      this.recentStages.shift();
    }
    this.mode = this.adaptive.reportInference(ms);
  }

  private readonly emitStats = (): void => {
    const now = performance.now();
    this.fps = (this.drawsInWindow * 1000) / Math.max(1, now - this.windowStart);
    this.drawsInWindow = 0;
    this.windowStart = now;
    this.events.emit('stats', this.stats);
  };
}
