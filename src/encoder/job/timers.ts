/** Wall time per stage of an encode, for the summary and `--json`. */
export type Stage = 'decode' | 'rescale' | 'codecLoop' | 'flicker' | 'encode';

export class StageTimers {
  private readonly ms: Record<Stage, number> = { decode: 0, rescale: 0, codecLoop: 0, flicker: 0, encode: 0 };

  /** Runs `fn` and adds its wall time to `stage`, also when it throws. */
  async time<T>(stage: Stage, fn: () => Promise<T>): Promise<T> {
    const t = performance.now();
    try {
      return await fn();
    } finally {
      this.ms[stage] += performance.now() - t;
    }
  }

  seconds(stage: Stage): number {
    return this.ms[stage] / 1000;
  }
}
