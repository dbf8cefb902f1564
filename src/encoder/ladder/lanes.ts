/**
 * The probe's lanes: one point per core. A neural point spends most of its time in the pair's
 * upscaler, which onnxruntime-node runs on Node's main thread; a conventional point runs in
 * ffmpeg processes. So a neural point goes first whenever no other is in flight, and a second one
 * starts only when nothing else waits: beside the first it would wait for the main thread while a
 * conventional point could use the core.
 *
 * Within a kind, jobs go by rank (the probe's window), then in arrival order: the probe judges the
 * neural candidate window by window (stop.ts), so a window's last points must not queue behind
 * every later window's.
 *
 * Hand-written: p-limit runs in arrival order and p-queue by a fixed priority; this rule depends
 * on what is in flight.
 */
export type LaneKind = 'main-thread' | 'processes';

interface Job {
  kind: LaneKind;
  rank: number;
  start(): Promise<void>;
}

export class Lanes {
  private running = 0;
  private onMain = 0;
  private readonly waiting: Record<LaneKind, Job[]> = { 'main-thread': [], processes: [] };

  constructor(readonly width: number) {}

  run<T>(kind: LaneKind, fn: () => Promise<T>, rank = 0): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const queue = this.waiting[kind];
      const at = queue.findIndex((j) => j.rank > rank);
      queue.splice(at < 0 ? queue.length : at, 0, { kind, rank, start: () => fn().then(resolve, reject) });
      this.next();
    });
  }

  private next(): void {
    for (let job = this.pick(); job; job = this.pick()) {
      const kind = job.kind;
      this.running++;
      if (kind === 'main-thread') this.onMain++;
      void job.start().finally(() => {
        this.running--;
        if (kind === 'main-thread') this.onMain--;
        this.next();
      });
    }
  }

  private pick(): Job | undefined {
    if (this.running >= this.width) return undefined;
    const main = this.waiting['main-thread'];
    const other = this.waiting.processes;
    if (main.length > 0 && (this.onMain === 0 || other.length === 0)) return main.shift();
    return other.shift() ?? main.shift();
  }
}
