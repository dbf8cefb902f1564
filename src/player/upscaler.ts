import { AdaptiveController } from './adaptive.js';
import { Drawing } from './drawing.js';
import { Emitter } from './emitter.js';
import type { EventName, HcdEvents, HcdListener } from './events.js';
import { HlsLevels, SingleLevel, type Levels, type ManifestNeed } from './levels.js';
import { FrameLoop } from './loop.js';
import { MasterLevels } from './native.js';
import { Network, type OpenHooks, type WarmSize } from './network.js';
import { Presentation } from './presentation.js';
import { Stats } from './stats.js';
import { setSurface } from './surface.js';
import type { AttachOptions, BackendInfo, CommonOptions, HcdStats, HcdUpscalerOptions, LastDraw, StageMs } from './types.js';

type BareOptions = CommonOptions & { video: HTMLVideoElement; hls?: undefined; modelUrl?: string; scale?: number; master?: string };

/**
 * Upscales every frame of an hls.js (or plain <video>) playback onto a canvas with the session's
 * learned upscaler. The video element keeps playing (audio, clock, buffering); the page shows the
 * canvas instead of it. See docs/player.md.
 *
 * The work is done by parts that each own their state, listeners and teardown: the levels
 * (levels.ts, native.ts), the network (network.ts, runner.ts), the canvas (drawing.ts), the stats
 * (stats.ts), adaptive stepping (adaptive.ts), full screen and captions (presentation.ts) and
 * the frame loop that drives them (loop.ts).
 */
export class HcdUpscaler {
  private readyNow!: Promise<void>;
  private resolveReady!: () => void;
  private readonly events = new Emitter<HcdEvents>();
  private readonly drawing: Drawing;
  private readonly adaptive: AdaptiveController;
  private readonly network: Network;
  private readonly levels: Levels;
  private readonly report: Stats;
  private readonly loop: FrameLoop;
  private readonly presentation: Presentation;
  /** Bumped when hls.js loads a new source: what was started for the old one is dropped. */
  private source = 0;
  private destroyed = false;

  constructor(private readonly opts: HcdUpscalerOptions | BareOptions) {
    this.newReady();
    const whenIdle = () => this.loop.whenIdle();
    // first: it throws on a canvas without a 2D context, before anything is registered
    this.drawing = new Drawing(opts.video, opts.canvas, () => this.report.countDraw(), whenIdle);
    this.adaptive = new AdaptiveController({ enabled: opts.adaptive ?? true });
    this.network = new Network(opts, whenIdle);
    this.report = new Stats(
      opts.statsIntervalMs ?? 1000,
      () => ({ backend: this.network.backend, msPerFrame: this.adaptive.msPerFrame, level: this.levels.level }),
      (s) => this.events.emit('stats', s),
    );
    this.levels = this.makeLevels();
    const { levels, network, drawing, report: stats, adaptive } = this;
    const hooks = { fail: (r: string) => this.fail(r), gpuDrawFailed: (r: string) => this.gpuDrawFailed(r) };
    this.loop = new FrameLoop({ video: opts.video, levels, network, drawing, stats, adaptive }, hooks);
    this.presentation = new Presentation(opts.video, opts.container ?? opts.canvas.parentElement ?? undefined, opts.captions ?? true);
    if (opts.hls) setSurface(opts.hls, opts.canvas);
    if (!opts.hls && !opts.master && opts.modelUrl) void this.start(opts.modelUrl, opts.scale);
  }

  /**
   * For a <video> without hls.js: `{ modelUrl }` upscales every frame with that model; `{ master }`
   * (native HLS, as in Safari) upscales the frames of the master playlist's LR variants only.
   */
  static attach(video: HTMLVideoElement, opts: AttachOptions): HcdUpscaler {
    return new HcdUpscaler({ ...opts, video, hls: undefined });
  }

  /** Settles when the model is loaded (or has failed and the player fell back); anew for each hls.js source. */
  get ready(): Promise<void> {
    return this.readyNow;
  }

  on<K extends EventName>(event: K, listener: HcdListener<K>): void {
    this.events.on(event, listener);
  }

  once<K extends EventName>(event: K, listener: HcdListener<K>): void {
    this.events.once(event, listener);
  }

  /** Without a listener, removes every listener of `event`. */
  off<K extends EventName>(event: K, listener?: HcdListener<K>): void {
    this.events.off(event, listener);
  }

  /** Full screen for the element holding the video and the canvas (`container`), so the upscaled picture stays in view. */
  requestFullscreen(): Promise<void> {
    return this.presentation.requestFullscreen(this.opts.canvas);
  }

  get stats(): HcdStats {
    return this.report.snapshot;
  }

  /** True when no network run is in flight or queued (a paused video's frame is final then). */
  get idle(): boolean {
    return this.loop.idle;
  }

  /** What the canvas shows now (for tests and diagnostics). */
  get lastDraw(): LastDraw | undefined {
    return this.drawing.lastDraw;
  }

  /** Frames drawn so far, by any path. */
  get drawCount(): number {
    return this.drawing.drawCount;
  }

  /** Times (ms) of the last network runs, frame grab to drawn output, oldest first (for benchmarks). */
  get recentRunMs(): number[] {
    return this.report.recentRunMs;
  }

  /** The same runs' stages, for benchmarks. */
  get recentStages(): StageMs[] {
    return this.report.recentStages;
  }

  /** Stops drawing and frees the sessions, callbacks, listeners and buffers. Safe to call twice; called on hls.js's DESTROYING. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.opts.hls) setSurface(this.opts.hls, undefined);
    this.loop.destroy();
    this.levels.destroy();
    this.presentation.destroy();
    this.report.destroy();
    this.events.clear();
    this.network.destroy();
    this.drawing.destroy();
    this.resolveReady();
  }

  private makeLevels(): Levels {
    const o = this.opts;
    if (o.hls) return new HlsLevels(o.hls, this.onManifest, { reset: this.reset, destroying: () => this.destroy() });
    if (o.master) return new MasterLevels(o.master, this.onManifest);
    return new SingleLevel(() => this.network.model?.scale ?? o.scale ?? 2);
  }

  private newReady(): void {
    this.readyNow = new Promise((r) => (this.resolveReady = r));
  }

  private readonly onManifest = (need: ManifestNeed): void => {
    if (need.kind === 'upscaler') void this.start(need.url);
    else if (need.kind === 'problem') this.fail(need.reason);
    else this.resolveReady(); // nothing to upscale: every level is drawn as it is
  };

  /** hls.js loads a new source: the old model's sessions go, the new playlist brings its own. */
  private readonly reset = (): void => {
    if (this.destroyed) return;
    this.source++;
    this.network.release();
    this.drawing.dropGpu();
    this.report.mode = 'bilinear';
    this.resolveReady();
    this.newReady();
  };

  private async start(url: string, bareScale?: number): Promise<void> {
    const source = this.source;
    try {
      const info: BackendInfo = { backend: 'wasm', runtime: 'onnxruntime-web', output: 'cpu' };
      const opened = await this.network.open(url, bareScale, this.openHooks(info));
      if (!opened) return;
      info.backend = opened.backend;
      info.runtime = opened.runtime;
      if (opened.threads) info.threads = opened.threads;
      if (opened.simd) info.simd = opened.simd;
      // the level playing now may be one this model must not upscale: say what its frames get
      this.report.mode = this.loop.modeNow();
      if (opened.webgpuProblem && (this.opts.backend ?? 'auto') === 'auto') this.events.emit('fallback', { reason: opened.webgpuProblem, to: 'wasm' });
      this.events.emit('backend', info);
      this.loop.stillFrame(this.drawing.probeLostFrame);
    } catch (e) {
      if (source === this.source) this.fail((e as Error).message);
    } finally {
      if (source === this.source) this.resolveReady();
    }
  }

  /** The other parts' steps while the network opens; notes in `info` whether the WebGPU draw path works. */
  private openHooks(info: BackendInfo): OpenHooks {
    const keepOnGpu = this.opts.keepOnGpu ?? true;
    return {
      beforeSession: async (webgpu) => {
        if (webgpu && keepOnGpu) await this.drawing.probeGpu();
      },
      afterSession: async (backend, device, inScale) => {
        if (backend !== 'webgpu' || !keepOnGpu) return;
        const problem = await this.drawing.useGpu(device, 1 / inScale);
        if (problem) info.outputProblem = `outputs are downloaded: ${problem}`;
        else info.output = 'gpu-buffer';
      },
      warmSizes: () => this.warmSizes(),
    };
  }

  /**
   * The LR sizes other than the one on screen: that one's next frame creates its session anyway,
   * and warming it too would only delay the first upscaled frame by a run.
   */
  private warmSizes(): WarmSize[] {
    const { videoWidth: w, videoHeight: h } = this.opts.video;
    return this.levels.lrLevels().filter((l) => l.width !== w || l.height !== h);
  }

  private fail(reason: string): void {
    if (this.destroyed) return;
    this.network.release();
    this.drawing.dropGpu();
    this.report.mode = 'bilinear';
    this.events.emit('fallback', { reason, to: 'bilinear' });
    this.resolveReady();
  }

  private gpuDrawFailed(reason: string): void {
    this.drawing.dropGpu();
    this.events.emit('backend', { backend: 'webgpu', runtime: this.network.runtime, output: 'cpu', outputProblem: reason });
  }
}
