import { ATTR_MODEL, ATTR_UPSCALE, SESSION_DATA_ID } from '../shared/hls.js';
import { planarToPacked } from '../shared/image.js';
import { AdaptiveController } from './adaptive.js';
import { Emitter } from './emitter.js';
import { FrameGrabber } from './frames.js';
import { configureOrt, createSession, loadModel, loadOrt, webgpuUsable, type ModelInfo } from './model.js';
import { planTiles, runTiled, type Tile } from './tiling.js';
import type {
  AttachOptions,
  Backend,
  CommonOptions,
  HcdEvents,
  HcdStats,
  HcdUpscalerOptions,
  HlsLike,
  LastDraw,
  Mode,
  Ort,
  OrtSession,
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
  output: Float32Array;
  image: ImageData;
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
  private session?: OrtSession;
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
    const s = this.session;
    this.session = undefined;
    this.buffers = undefined;
    // a run still in flight finishes first; release() after it, never during it
    if (s) void this.whenIdle().then(() => s.release().catch(() => undefined));
    this.resolveReady();
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
      const res = await createSession(this.ort, model.bytes, choice, gpuProblem);
      if (this.destroyed) {
        await res.session.release();
        return;
      }
      if (!model.input) model.input = res.session.inputNames[0];
      if (!model.output) model.output = res.session.outputNames[0];
      this.model = model;
      this.session = res.session;
      this.backend = res.backend;
      // the level playing now may be one this model must not upscale: say what its frames get
      const { scale, model: levelModel } = this.levelFor(this.video.videoWidth, this.video.videoHeight);
      const usable = model.scale === scale && (!levelModel || levelModel === model.id);
      this.mode = !this.video.videoWidth || usable ? this.adaptive.mode : scale ? 'bilinear' : 'passthrough';
      if (res.webgpuProblem && (this.opts.backend ?? 'auto') === 'auto') this.events.emit('fallback', { reason: res.webgpuProblem, to: 'wasm' });
      this.events.emit('backend', { backend: res.backend });
      this.onPauseOrSeek(); // a video already paused gets its still frame upscaled now
    } catch (e) {
      this.fail((e as Error).message);
    } finally {
      this.resolveReady();
    }
  }

  private fail(reason: string): void {
    if (this.destroyed) return;
    const s = this.session;
    if (s) void this.whenIdle().then(() => s.release().catch(() => undefined));
    this.session = undefined;
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
    if (!this.session || !this.model || !usable) {
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

  private buffersFor(w: number, h: number, s: number): Buffers {
    const b = this.buffers;
    if (b && b.w === w && b.h === h) return b;
    const tileOpt = this.opts.tile ?? (w * h > 960 * 540 ? 480 : 0);
    const r = this.model!.receptiveRadius;
    const tiles = tileOpt > 0 ? planTiles(w, h, tileOpt, r) : planTiles(w, h, Math.max(w, h), r);
    this.buffers = {
      w,
      h,
      input: new Float32Array(3 * w * h),
      output: new Float32Array(3 * w * h * s * s),
      image: new ImageData(w * s, h * s),
      tiles,
    };
    return this.buffers;
  }

  private async upscale(w: number, h: number, s: number, mediaTime: number): Promise<void> {
    const t0 = performance.now();
    const drawsAtStart = this.drawCount;
    try {
      const model = this.model!;
      const session = this.session!;
      const ort = this.ort!;
      const buf = this.buffersFor(w, h, s);
      const colourPath = await this.grabber.grab(this.video, w, h, buf.input, model.inScale);
      await runTiled(buf.input, w, h, s, buf.tiles, async (x, tw, th) => {
        // the proxy worker takes ownership of (detaches) the input's buffer: give it a copy, not ours
        const input = ort.env.wasm.proxy ? x.slice() : x;
        const res = await session.run({ [model.input]: new ort.Tensor('float32', input, [1, 3, th, tw]) });
        const y = res[model.output];
        const out = (await y.getData()) as Float32Array;
        y.dispose();
        return out;
      }, buf.output);
      // stale: the player is gone, or the canvas already shows a later frame (a level switch to
      // a source level, a fallback) that this older frame must not overwrite
      if (this.destroyed || this.buffers !== buf || this.drawCount !== drawsAtStart) return;
      planarToPacked(buf.output, w * s, h * s, { channels: 4, scale: 1 / model.inScale, out: buf.image.data });
      this.sizeCanvas(w * s, h * s);
      this.ctx.putImageData(buf.image, 0, 0);
      this.upscaledFrames++;
      this.drawn({ kind: 'neural', mediaTime, width: w * s, height: h * s, colourPath, tiles: buf.tiles.length });
      const ms = performance.now() - t0;
      this.recentRunMs.push(ms);
      if (this.recentRunMs.length > 240) this.recentRunMs.shift();
      this.mode = this.adaptive.reportInference(ms);
    } catch (e) {
      if (!this.destroyed) this.fail(`upscaling failed: ${(e as Error).message}`);
    }
  }

  private readonly emitStats = (): void => {
    const now = performance.now();
    this.fps = (this.drawsInWindow * 1000) / Math.max(1, now - this.windowStart);
    this.drawsInWindow = 0;
    this.windowStart = now;
    this.events.emit('stats', this.stats);
  };
}
