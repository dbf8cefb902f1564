import type { HcdStats, Mode, StageMs } from './types.js';

/** What the other parts know and the stats report as they are. */
export type LiveStats = Pick<HcdStats, 'backend' | 'msPerFrame' | 'level'>;

/** Runs kept for benchmarks. */
const KEEP_RUNS = 240;

/** Frame counters, the frame rate, recent run times, and the periodic 'stats' event. */
export class Stats {
  mode: Mode = 'bilinear';
  droppedFrames = 0;
  upscaledFrames = 0;
  /** Times (ms) of the last network runs, frame grab to drawn output, oldest first. */
  readonly recentRunMs: number[] = [];
  /** The same runs' stages. */
  readonly recentStages: StageMs[] = [];
  private fps = 0;
  private drawsInWindow = 0;
  private windowStart = performance.now();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    intervalMs: number,
    private readonly live: () => LiveStats,
    private readonly emit: (s: HcdStats) => void,
  ) {
    this.timer = setInterval(this.tick, intervalMs);
  }

  get snapshot(): HcdStats {
    const { backend, msPerFrame, level } = this.live();
    return { backend, fps: this.fps, msPerFrame, droppedFrames: this.droppedFrames, upscaledFrames: this.upscaledFrames, mode: this.mode, level };
  }

  countDraw(): void {
    this.drawsInWindow++;
  }

  recordRun(ms: number, stages: StageMs): void {
    this.upscaledFrames++;
    this.recentRunMs.push(ms);
    this.recentStages.push(stages);
    if (this.recentRunMs.length > KEEP_RUNS) {
      this.recentRunMs.shift();
      this.recentStages.shift();
    }
  }

  destroy(): void {
    clearInterval(this.timer);
  }

  private readonly tick = (): void => {
    const now = performance.now();
    this.fps = (this.drawsInWindow * 1000) / Math.max(1, now - this.windowStart);
    this.drawsInWindow = 0;
    this.windowStart = now;
    this.emit(this.snapshot);
  };
}
