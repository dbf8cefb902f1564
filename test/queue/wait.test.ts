import type { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { ChunkJobResult } from '../../src/encoder/queue/payload.js';
import { waitForChunks } from '../../src/encoder/queue/wait.js';

/**
 * A queue whose one job completes while the submitter looks at it: right after the first command
 * that reads it. A job read as it was before that, with the state read after, has no result yet.
 */
function completingQueue(result: ChunkJobResult) {
  let done = false;
  const snapshot = () => ({ progress: done ? 12 : 3, returnvalue: done ? result : null, attemptsMade: 1, failedReason: undefined });
  const finish = <T>(v: T): T => ((done = true), v);
  return {
    getJob: async () => finish(snapshot()),
    getJobState: async () => finish(done ? 'completed' : 'active'),
  } as unknown as Queue;
}

describe('waitForChunks', () => {
  it('records the result of a job that completes while it is being looked at', async () => {
    const result: ChunkJobResult = { record: null, info: {} };
    const got: ChunkJobResult[] = [];
    await waitForChunks({
      queue: completingQueue(result),
      jobId: 'j',
      ranges: [{ index: 0, startFrame: 0, frames: 12 }],
      scrub: (t) => t,
      onDone: (_, r) => got.push(r),
      onRunning: () => undefined,
      requeue: async () => undefined,
    });
    expect(got).toEqual([result]);
  });
});
