/**
 * The WASM kernel on worker threads sharing one WebAssembly.Memory (cross-origin isolated pages
 * only: shared memory needs SharedArrayBuffer). Each frame's calls go to every worker at once;
 * each runs its band of rows of a call, then waits at a barrier (Atomics) until all have finished
 * it, since the next layer reads rows of its neighbours. The page's thread only writes the input
 * and reads the output, so it stays free for the video while a frame is upscaled.
 */

export type KernelFn = 'conv' | 'fromPlanar' | 'reflectBorder' | 'depthToSpace';

/** One kernel call; with `rows`, its last two arguments are a row range [y0, y1) of 0..rows and it can be split. */
export interface Call {
  fn: KernelFn;
  args: number[];
  rows?: number;
}

export interface Executor {
  readonly memory: WebAssembly.Memory;
  run(calls: Call[]): Promise<void>;
  release(): void;
}

// Pages of 64 KiB: room for 960x540 LR frames of 16-channel activations (about 200 MB) and more
const MAX_PAGES = 16384;

const WORKER = `
let k, sync;
onmessage = async (e) => {
  const m = e.data;
  if (m.module) {
    k = (await WebAssembly.instantiate(m.module, { env: { memory: m.memory, abort() {} } })).exports;
    sync = new Int32Array(m.sync);
    postMessage('ready');
    return;
  }
  try {
    let target = 0;
    for (const c of m.calls) {
      if (c.rows === undefined) {
        if (m.band === 0) k[c.fn](...c.args);
      } else {
        const y0 = Math.floor((c.rows * m.band) / m.threads);
        const y1 = Math.floor((c.rows * (m.band + 1)) / m.threads);
        if (y1 > y0) k[c.fn](...c.args, y0, y1);
      }
      target += m.threads;
      const n = Atomics.add(sync, 0, 1) + 1;
      if (n === target) Atomics.notify(sync, 0);
      else for (let v = n; v < target; v = Atomics.load(sync, 0)) Atomics.wait(sync, 0, v);
    }
    postMessage('done');
  } catch (err) {
    postMessage('failed: ' + err.message);
  }
};`;

export class ThreadPool implements Executor {
  private readonly sync = new Int32Array(new SharedArrayBuffer(4));

  private constructor(
    readonly memory: WebAssembly.Memory,
    private readonly workers: Worker[],
  ) {}

  get threads(): number {
    return this.workers.length;
  }

  /** `threads` workers running `module` (the kernel built to import shared memory). */
  static async create(module: WebAssembly.Module, threads: number): Promise<ThreadPool> {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
    const url = URL.createObjectURL(new Blob([WORKER], { type: 'text/javascript' }));
    const workers = Array.from({ length: threads }, () => new Worker(url));
    URL.revokeObjectURL(url);
    const pool = new ThreadPool(memory, workers);
    try {
      await Promise.all(workers.map((w) => pool.reply(w, { module, memory, sync: pool.sync.buffer })));
    } catch (e) {
      pool.release();
      throw e;
    }
    return pool;
  }

  async run(calls: Call[]): Promise<void> {
    Atomics.store(this.sync, 0, 0);
    const threads = this.workers.length;
    await Promise.all(this.workers.map((w, band) => this.reply(w, { calls, band, threads })));
  }

  release(): void {
    for (const w of this.workers) w.terminate();
  }

  /** Posts `msg` to `w` and waits for its answer. */
  private reply(w: Worker, msg: object): Promise<void> {
    return new Promise((resolve, reject) => {
      w.onmessage = (e: MessageEvent<string>) => (e.data === 'ready' || e.data === 'done' ? resolve() : reject(new Error(`kernel thread ${e.data}`)));
      w.onerror = (e) => reject(new Error(`kernel thread: ${e.message}`));
      w.postMessage(msg);
    });
  }
}
