import { createHash } from 'node:crypto';
import type { Job as BullJob, Queue } from 'bullmq';
import type { ChunkRange } from '../job/range.js';
import type { ClaimedJob } from '../job/open.js';
import { CHUNK_JOB, type ChunkJobData } from './payload.js';

/** The job in OUTDIR: equal jobs into different folders are different jobs. */
export function queueJobId(j: ClaimedJob): string {
  return createHash('sha256').update(`${j.out}\n${j.tag}`).digest('hex').slice(0, 16);
}

export const chunkJobId = (jobId: string, index: number): string => `${jobId}-${index}`;

/**
 * Queues the chunks not recorded yet. A chunk job already in Redis is kept when it can still
 * finish or has (a reattaching submitter records its result); one that failed, or any job of an
 * earlier run when this is not a resume, goes first, as its segments may be gone.
 */
export async function enqueue(queue: Queue, data: (r: ChunkRange) => ChunkJobData, ranges: ChunkRange[], o: { attempts: number; resume: boolean }): Promise<void> {
  const fresh: ChunkRange[] = [];
  for (const r of ranges) {
    const old = await queue.getJob(chunkJobId(data(r).jobId, r.index));
    if (old && (!o.resume || (await old.getState()) === 'failed')) await removeJob(old);
    else if (old) continue;
    fresh.push(r);
  }
  await queue.addBulk(
    fresh.map((r) => {
      const d = data(r);
      return { name: CHUNK_JOB, data: d, opts: { jobId: chunkJobId(d.jobId, r.index), attempts: o.attempts, backoff: { type: 'fixed', delay: 500 }, removeOnComplete: false, removeOnFail: false } };
    }),
  );
}

async function removeJob(job: BullJob): Promise<void> {
  try {
    await job.remove();
  } catch {
    // held by a worker still at it: its result is for the same bytes, so it may stay
  }
}
