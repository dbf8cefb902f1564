/**
 * Decides, frame by frame, whether to run the network. When inference takes longer than the
 * frame interval the player would fall further and further behind the video, so it degrades:
 * 'alternate' upscales every other frame and scales the ones in between bilinearly, 'bilinear'
 * runs the network only now and then to keep measuring. When the measured time drops (a
 * smaller level, a quieter machine) it climbs back. Pure code, unit-tested in Node.
 */

export type AdaptiveMode = 'neural' | 'alternate' | 'bilinear';

export interface AdaptiveOptions {
  /** Off: always 'neural' (benchmarks, tests of the colour path). */
  enabled?: boolean;
  /** Smoothing of the measured times (weight of the newest sample). */
  alpha?: number;
  /** Samples in a row beyond a threshold before the mode changes (default 4). */
  settle?: number;
  /** In 'bilinear', run the network on one frame in this many, to notice when it could recover. */
  probeEvery?: number;
}

export class AdaptiveController {
  mode: AdaptiveMode = 'neural';
  /** Smoothed inference time (ms) and frame interval (ms); NaN until measured. */
  msPerFrame = NaN;
  intervalMs = NaN;
  private slow = 0;
  private fast = 0;
  private counter = 0;
  private readonly enabled: boolean;
  private readonly alpha: number;
  private readonly settle: number;
  private readonly probeEvery: number;

  constructor(opts: AdaptiveOptions = {}) {
    this.enabled = opts.enabled ?? true;
    this.alpha = opts.alpha ?? 0.25;
    this.settle = opts.settle ?? 4;
    this.probeEvery = opts.probeEvery ?? 12;
  }

  /** Whether the next frame should go through the network. Call once per presented frame. */
  shouldUpscale(): boolean {
    const k = this.counter++;
    if (this.mode === 'neural') return true;
    if (this.mode === 'alternate') return k % 2 === 0;
    return k % this.probeEvery === 0;
  }

  /** The time between presented frames, from the video's own timestamps. */
  reportInterval(ms: number): void {
    if (!(ms > 0 && ms < 1000)) return; // a seek or a pause, not a frame interval
    this.intervalMs = Number.isNaN(this.intervalMs) ? ms : this.intervalMs + this.alpha * (ms - this.intervalMs);
  }

  /** How long one network run took (frame grab to drawn output). Returns the new mode. */
  reportInference(ms: number): AdaptiveMode {
    this.msPerFrame = Number.isNaN(this.msPerFrame) ? ms : this.msPerFrame + this.alpha * (ms - this.msPerFrame);
    if (!this.enabled || Number.isNaN(this.intervalMs)) return this.mode;
    const load = ms / this.intervalMs;
    // thresholds leave a gap between going down and coming back, so the mode does not oscillate;
    // a change needs `settle` samples in a row on the same side, so one slow frame changes nothing
    const [down, up] = { neural: [0.9, -1], alternate: [1.8, 0.6], bilinear: [Infinity, 1.4] }[this.mode];
    this.slow = load > down ? this.slow + 1 : 0;
    this.fast = load < up ? this.fast + 1 : 0;
    const order: AdaptiveMode[] = ['neural', 'alternate', 'bilinear'];
    const i = order.indexOf(this.mode);
    if (this.slow >= this.settle) this.change(order[i + 1]);
    else if (this.fast >= this.settle) this.change(order[i - 1]);
    return this.mode;
  }

  private change(mode: AdaptiveMode): void {
    this.mode = mode;
    this.slow = 0;
    this.fast = 0;
    this.counter = 0;
  }
}
