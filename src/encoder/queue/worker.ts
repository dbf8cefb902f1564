import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { HcdError } from '../../shared/errors.js';
import { MalformedJob, runChunkJob } from './chunk.js';
import { CHUNK_JOB, chunkTimesLog, QUEUE_NAME, type ChunkJobResult } from './payload.js';
import { parseQueueUrl } from './url.js';

export interface WorkerOptions {
  /** redis://[:password@]HOST:PORT[/DB] or rediss://. */
  queue: string;
  /** Chunks this process encodes at once. */
  concurrency: number;
  /**
   * How long a chunk's lock lasts without renewal, and how often stalled chunks are looked for:
   * a killed worker's chunk goes to another worker after about twice this.
   */
  stallMs: number;
  /** onnxruntime intra-op threads per chunk; every core by default. */
  threads?: number;
  signal: AbortSignal;
  /** One line per event (a chunk taken, done, failed), the queue's password taken out. */
  onLog(line: string): void;
}

/** How often a chunk may stall (its worker gone) before it counts as failed. */
const MAX_STALLS = 3;

/**
 * `hcd worker`: takes chunk jobs from the queue until `signal` aborts, then lets the chunks in
 * hand finish (or, at a second signal, the process ends and they go back to the queue).
 */
export async function runWorker(o: WorkerOptions): Promise<void> {
  const q = parseQueueUrl(o.queue);
  if (!Number.isSafeInteger(o.concurrency) || o.concurrency < 1) throw new HcdError(`--concurrency must be a whole number >= 1, got ${o.concurrency}`);
  if (o.threads !== undefined && (!Number.isSafeInteger(o.threads) || o.threads < 1)) throw new HcdError(`--threads must be a whole number >= 1, got ${o.threads}`);
  if (!Number.isSafeInteger(o.stallMs) || o.stallMs < 100) throw new HcdError(`--stall-ms must be a whole number >= 100, got ${o.stallMs}`);
  const run = async (job: Job): Promise<ChunkJobResult> => {
    if (job.name !== CHUNK_JOB) throw new UnrecoverableError(`unknown job type '${job.name}': a worker runs ${CHUNK_JOB} jobs only`);
    o.onLog(`chunk job ${job.id}: started`);
    try {
      return await runChunkJob(job.data, {
        onFrames: (n) => void job.updateProgress(n).catch(() => undefined),
        // kept with the job in Redis: the chunk's compute, to weigh the queue's overhead against
        onEncoded: (t) => void job.log(chunkTimesLog(t)).catch(() => undefined),
        threads: o.threads,
      });
    } catch (e) {
      const msg = q.scrub((e as Error).message.split('\n')[0]);
      if (e instanceof MalformedJob) throw new UnrecoverableError(msg);
      throw new Error(msg);
    }
  };
  // kept on every job it runs (processedBy): which machine and process encoded a chunk
  const name = `${hostname()}:${process.pid}`;
  const worker = new Worker(QUEUE_NAME, run, { name, connection: q.connection, concurrency: o.concurrency, lockDuration: o.stallMs, stalledInterval: o.stallMs, maxStalledCount: MAX_STALLS });
  worker.on('completed', (job) => o.onLog(`chunk job ${job.id}: done`));
  worker.on('failed', (job, e) => o.onLog(`chunk job ${job?.id ?? '?'}: ${q.scrub(e.message)}`));
  worker.on('error', (e) => o.onLog(`queue ${q.masked}: ${q.scrub(e.message.split('\n')[0])}`));
  o.onLog(`worker on ${q.masked}, ${o.concurrency} chunk(s) at a time${o.threads ? `, ${o.threads} onnxruntime thread(s) each` : ''}`);
  await new Promise<void>((resolve) => (o.signal.aborted ? resolve() : o.signal.addEventListener('abort', () => resolve(), { once: true })));
  await worker.close();
}
