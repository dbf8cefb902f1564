/**
 * `hcd encode --queue URL --workers N`: N `hcd worker` processes on this machine, for the time of
 * the encode. Processes rather than threads in one process: each has its own onnxruntime, x264
 * pipes and event loop, exactly as a worker on another machine, so N local workers measure what
 * N machines would do (less the cores they share).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { endsWithThisProcess } from '../encoder/queue/embedded.js';
import { HcdError } from '../shared/errors.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'hcd.js');

/** How long a stopped worker may take to let go of its chunk before it is killed. */
const STOP_MS = 10_000;

export interface LocalWorkers {
  count: number;
  queue: string;
  /** The user's Ctrl-C / SIGTERM. */
  signal?: AbortSignal;
}

interface Child {
  proc: ChildProcess;
  lastLine: string;
  stopping: boolean;
}

/** One worker, one onnxruntime thread: N workers share the cores instead of each taking all of them. */
function startChild(queue: string, onDied: (c: Child, why: string) => void): Child {
  const proc = spawn(process.execPath, [BIN, 'worker', '--queue', queue, '--threads', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  // a SIGKILLed encode leaves no worker behind either
  endsWithThisProcess(proc);
  const c: Child = { proc, lastLine: '', stopping: false };
  proc.stderr!.on('data', (b: Buffer) => {
    const lines = b.toString().trim().split('\n');
    c.lastLine = lines.at(-1) ?? c.lastLine;
  });
  proc.on('error', (e) => onDied(c, e.message));
  proc.on('exit', (code, sig) => onDied(c, sig ? `killed by ${sig}` : `exit ${code}`));
  return c;
}

/** SIGTERM lets a worker finish or hand back its chunk; one that hangs is killed. */
async function stopChild(c: Child): Promise<void> {
  c.stopping = true;
  const p = c.proc;
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), STOP_MS);
  await exited;
  clearTimeout(timer);
}

/**
 * Runs `fn` with `count` local workers on the queue, and stops them when it ends, however it
 * ends. A worker that dies on its own fails the encode (its chunks would wait for nobody).
 */
export async function withLocalWorkers<T>(w: LocalWorkers, fn: (signal?: AbortSignal) => Promise<T>): Promise<T> {
  if (w.count === 0) return fn(w.signal);
  const abort = new AbortController();
  const forward = () => abort.abort();
  if (w.signal?.aborted) abort.abort();
  w.signal?.addEventListener('abort', forward, { once: true });
  let failure: HcdError | undefined;
  const children: Child[] = [];
  const onDied = (c: Child, why: string) => {
    if (c.stopping || failure) return;
    failure = new HcdError(`local worker ${children.indexOf(c) + 1} of ${w.count} stopped (${why})${c.lastLine ? `: ${c.lastLine}` : ''}`);
    abort.abort();
  };
  // a hard exit of this process (a second Ctrl-C) must not leave workers behind
  const killAll = () => children.forEach((c) => c.proc.kill('SIGKILL'));
  process.once('exit', killAll);
  try {
    for (let i = 0; i < w.count; i++) children.push(startChild(w.queue, onDied));
    return await fn(abort.signal);
  } catch (e) {
    throw failure ?? e;
  } finally {
    w.signal?.removeEventListener('abort', forward);
    await Promise.all(children.map(stopChild));
    process.off('exit', killAll);
  }
}
