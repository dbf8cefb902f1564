import { AdaptiveController } from './adaptive.js';
import { Drawing } from './drawing.js';
import { Emitter } from './emitter.js';
import { HlsLevels, SingleLevel, type Levels, type ManifestNeed } from './levels.js';
import { FrameLoop } from './loop.js';
import { Network, type OpenHooks } from './network.js';
import { Stats } from './stats.js';
import type { AttachOptions, BackendInfo, CommonOptions, HcdEvents, HcdStats, HcdUpscalerOptions, LastDraw, StageMs } from './types.js';

type BareOptions = CommonOptions & { video: HTMLVideoElement; hls?: undefined; modelUrl?: string; scale?: number };

/**
 * Upscales every frame of an hls.js (or plain <video>) playback onto a canvas with the session's
 * learned upscaler. The video element keeps playing (audio, clock, buffering); the page shows the
 * canvas instead of it. See docs/player.md.
 *
 * The work is done by parts that each own their state, listeners and teardown: the levels
 * (levels.ts), the network (network.ts, runner.ts), the canvas (drawing.ts), the stats
 * (stats.ts), adaptive stepping (adaptive.ts) and the frame loop that drives them (loop.ts).
 */
export class HcdUpscaler {
  /** Settles when the model is loaded (or has failed and the player fell back). */
  readonly ready: Promise<void>;
  private resolveReady!: () => void;
  private readonly events = new Emitter<HcdEvents>();
  private readonly drawing: Drawing;
  private readonly adaptive: AdaptiveController;
  private readonly network: Network;
  private readonly levels: Levels;
  private readonly report: Stats;
  private readonly loop: FrameLoop;
  private destroyed = false;

  constructor(private readonly opts: HcdUpscalerOptions | BareOptions) {
    this.ready = new Promise((r) => (this.resolveReady = r));
    const whenIdle = () => this.loop.whenIdle();
    // first: it throws on a canvas without a 2D context, before anything is registered
    this.drawing = new Drawing(opts.video, opts.canvas, () => this.report.countDraw(), whenIdle);
    this.adaptive = new AdaptiveController({ enabled: opts.adaptive ?? true });
    this.network = new Network(opts, whenIdle);
    this.levels = opts.hls ? new HlsLevels(opts.hls, this.onManifest) : new SingleLevel(() => this.network.model?.scale ?? opts.scale ?? 2);
    this.report = new Stats(
      opts.statsIntervalMs ?? 1000,
      () => ({ backend: this.network.backend, msPerFrame: this.adaptive.msPerFrame, level: this.levels.level }),
      (s) => this.events.emit('stats', s),
    );
    const { levels, network, drawing, report: stats, adaptive } = this;
    const hooks = { fail: (r: string) => this.fail(r), gpuDrawFailed: (r: string) => this.gpuDrawFailed(r) };
    this.loop = new FrameLoop({ video: opts.video, levels, network, drawing, stats, adaptive }, hooks);
    if (!opts.hls && opts.modelUrl) void this.start(opts.modelUrl, opts.scale);
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

  /** Stops drawing and frees the session, callbacks, listeners and buffers. Safe to call twice. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.loop.destroy();
    this.levels.destroy();
    this.report.destroy();
    this.events.clear();
    this.network.destroy();
    this.drawing.destroy();
    this.resolveReady();
  }

  private readonly onManifest = (need: ManifestNeed): void => {
    if (need.kind === 'upscaler') void this.start(need.url);
    else if (need.kind === 'problem') this.fail(need.reason);
    else this.resolveReady(); // nothing to upscale: every level is drawn as it is
  };

  private async start(url: string, bareScale?: number): Promise<void> {
    try {
      const info: BackendInfo = { backend: 'wasm', output: 'cpu' };
      const opened = await this.network.open(url, bareScale, this.gpuDrawHooks(info));
      if (!opened) return;
      info.backend = opened.backend;
      // the level playing now may be one this model must not upscale: say what its frames get
      this.report.mode = this.loop.modeNow();
      if (opened.webgpuProblem && (this.opts.backend ?? 'auto') === 'auto') this.events.emit('fallback', { reason: opened.webgpuProblem, to: 'wasm' });
      this.events.emit('backend', info);
      this.loop.stillFrame(this.drawing.probeLostFrame);
    } catch (e) {
      this.fail((e as Error).message);
    } finally {
      this.resolveReady();
    }
  }

  /** Sets up the WebGPU draw path while the network opens, and notes in `info` whether it works. */
  private gpuDrawHooks(info: BackendInfo): OpenHooks {
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
    };
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
    this.events.emit('backend', { backend: 'webgpu', output: 'cpu', outputProblem: reason });
  }
}
