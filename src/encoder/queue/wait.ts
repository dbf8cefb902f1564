import type { Queue } from 'bullmq';
import { HcdError } from '../../shared/errors.js';
import { interrupted } from '../job/interrupted.js';
import type { ChunkRange } from '../job/range.js';
import { chunkJobId } from './jobs.js';
import { ChunkJobResult, firstIssue } from './payload.js';

/** How often the submitter looks at its chunk jobs. */
const POLL_MS = 250;

export interface Waiting {
  queue: Queue;
  jobId: string;
  ranges: ChunkRange[];
  /** Scrubs the queue's password out of a worker's error text. */
  scrub(text: string): string;
  /** A chunk's result, as it comes: the caller records it. */
  onDone(range: ChunkRange, result: ChunkJobResult): void;
  /** Frames encoded so far by the chunks still running, summed (from the workers' progress). */
  onRunning(frames: number): void;
  /** Queues a chunk again whose job Redis lost (a restart without persistence). */
  requeue(range: ChunkRange): Promise<void>;
  signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Rejects once `signal` aborts: a command may wait long while Redis is away. */
function aborted(signal?: AbortSignal): Promise<never> {
  const p = new Promise<never>((_, reject) => {
    if (signal?.aborted) reject(interrupted());
    signal?.addEventListener('abort', () => reject(interrupted()), { once: true });
  });
  p.catch(() => undefined); // observed here, thrown from the race it joins
  return p;
}

/**
 * Waits until every chunk job has completed, handing each result on as it comes. Throws at the
 * first chunk that failed for good (its attempts spent), naming it and its cause. While Redis is
 * away the commands wait for it to come back (ioredis queues them).
 */
export async function waitForChunks(w: Waiting): Promise<void> {
  const pending = new Map(w.ranges.map((r) => [chunkJobId(w.jobId, r.index), r]));
  const stop = aborted(w.signal);
  while (pending.size > 0) {
    if (w.signal?.aborted) throw interrupted();
    let running = 0;
    for (const [id, range] of pending) running += await Promise.race([look(w, id, range, pending), stop]);
    w.onRunning(running);
    if (pending.size > 0) await Promise.race([sleep(POLL_MS), stop]);
  }
}

/** One chunk job's state: its result recorded when done; the frames it has done while it runs. */
async function look(w: Waiting, id: string, range: ChunkRange, pending: Map<string, ChunkRange>): Promise<number> {
  // the state before the job: a job read before it completed would lack its result
  const state = await w.queue.getJobState(id);
  const job = state === 'unknown' ? undefined : await w.queue.getJob(id);
  if (!job) {
    await w.requeue(range);
    return 0;
  }
  if (state === 'failed') throw new HcdError(`chunk ${range.index} (frames ${range.startFrame}-${range.startFrame + range.frames - 1}) failed after ${job.attemptsMade} attempt(s): ${w.scrub(job.failedReason ?? 'no reason given').split('\n')[0]}`);
  if (state !== 'completed') return typeof job.progress === 'number' ? job.progress : 0;
  const parsed = ChunkJobResult.safeParse(job.returnvalue);
  if (!parsed.success) throw new HcdError(`chunk ${range.index}: a worker returned a malformed result (${firstIssue(parsed.error)})`);
  pending.delete(id);
  w.onDone(range, parsed.data);
  return 0;
}
