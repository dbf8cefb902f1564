import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { Queue } from 'bullmq';
import { resolveEncodeConfig, type EncodeConfig } from '../../config.js';
import { HcdError } from '../../shared/errors.js';
import { checkOutputFolder } from '../media/files.js';
import type { EncodeHooks, EncodeOptions } from '../job/encode.js';
import { framesAhead } from '../job/frames.js';
import { claimJob, planJob, type ClaimedJob } from '../job/open.js';
import { writePlaylists } from '../job/publish.js';
import type { ChunkRange } from '../job/range.js';
import { recordChunk } from '../job/record.js';
import { markComplete } from '../job/run.js';
import { finishLadder } from '../job/measured.js';
import { summarize, type EncodeSummary } from '../job/summary.js';
import { StageTimers } from '../job/timers.js';
import { enqueue, queueJobId } from './jobs.js';
import { pairHash } from './model.js';
import type { ChunkJobData, ChunkJobResult } from './payload.js';
import { parseQueueUrl, type QueueUrl } from './url.js';
import { writeTracks } from './tracks.js';
import { waitForChunks } from './wait.js';
import { QUEUE_NAME } from './payload.js';

export interface QueueEncodeOptions extends EncodeOptions {
  /** redis://[:password@]HOST:PORT[/DB] or rediss://. */
  queue: string;
  /** Tries per chunk before the job fails. */
  attempts?: number;
}

/** Frames the input gives: the count the probe promises where it is exact, else counted by decoding. */
async function frameTotal(j: ClaimedJob, signal?: AbortSignal): Promise<number> {
  if (Number.isFinite(j.expected) && (j.src.framesExact || j.limit === j.expected)) return j.expected;
  let n = 0;
  for await (const frame of framesAhead(j)) {
    void frame;
    if (signal?.aborted) break;
    n++;
  }
  return n;
}

function rangesOf(j: ClaimedJob, total: number): ChunkRange[] {
  const out: ChunkRange[] = [];
  for (let i = 0; i * j.chunk < total; i++) out.push({ index: i, startFrame: i * j.chunk, frames: j.chunk });
  return out.filter((r) => !j.state.chunks.some((c) => c.index === r.index));
}

/**
 * `hcd encode --queue`: the encode, one BullMQ job per chunk for `hcd worker`s to take, this
 * process claiming OUTDIR, encoding the audio once, recording each chunk as its result comes
 * and writing the playlists at the end. The files are the ones a whole-input run writes.
 */
export async function encodeOnQueue(options: QueueEncodeOptions, hooks: EncodeHooks = {}): Promise<EncodeSummary> {
  const t0 = performance.now();
  const { signal, queue: url, attempts = 3, ...given } = options;
  const q = parseQueueUrl(url);
  const resolved = resolveEncodeConfig(given);
  const vmafModel = resolved.auto.vmafModel === undefined ? {} : { vmafModel: resolve(resolved.auto.vmafModel) };
  const cfg: EncodeConfig = { ...resolved, input: resolve(resolved.input), outdir: resolve(resolved.outdir), auto: { ...resolved.auto, ...vmafModel } };
  if (!Number.isSafeInteger(attempts) || attempts < 1) throw new HcdError(`--attempts must be a whole number >= 1, got ${attempts}`);
  checkOutputFolder(cfg.outdir);
  const j = claimJob(await planJob(cfg, {}, { onNote: hooks.onNote }));
  let encodedFrames = 0;
  if (!j.state.complete) encodedFrames = await runOnQueue(j, q, { attempts, hooks, signal });
  writePlaylists(j, true);
  const quality = await finishLadder(j, hooks.onNote);
  rmSync(j.work, { recursive: true, force: true });
  return summarize(j, { encodedFrames, loopStats: [], quality }, new StageTimers(), (performance.now() - t0) / 1000);
}

async function runOnQueue(j: ClaimedJob, q: QueueUrl, o: { attempts: number; hooks: EncodeHooks; signal?: AbortSignal }): Promise<number> {
  const total = await frameTotal(j, o.signal);
  const ranges = rangesOf(j, total);
  await writeTracks(j, o.signal);
  const jobId = queueJobId(j);
  const model = { id: j.pair.manifest.id, hash: pairHash(j.pair) };
  const data = (r: ChunkRange): ChunkJobData => ({ v: 1, jobId, tag: j.tag, input: j.cfg.input, outdir: j.out, chunk: r, config: { ...j.cfg, model: model.id }, model });
  const queue = new Queue(QUEUE_NAME, { connection: q.connection });
  queue.on('error', () => undefined); // ioredis reconnects on its own; the wait loop's commands wait for it
  const start = performance.now();
  let encoded = 0;
  const progress = (running: number) => {
    const done = j.state.chunks.reduce((s, c) => s + c.frames, 0);
    const rate = (encoded + running) / Math.max((performance.now() - start) / 1000, 1e-3);
    o.hooks.onFrame?.({ frame: Math.min(done + running, total), of: total, fps: rate, eta_s: rate > 0 ? Math.max(0, (total - done - running) / rate) : 0 });
  };
  try {
    await enqueue(queue, data, ranges, { attempts: o.attempts, resume: j.cfg.resume });
    o.hooks.onNote?.(`queued ${ranges.length} chunk(s) of ${Math.ceil(total / j.chunk)} on ${q.masked}`);
    await waitForChunks({
      queue, jobId, ranges, scrub: q.scrub, signal: o.signal,
      onDone: (r, res) => {
        if (res.record) encoded += recordResult(j, r, res);
        progress(0);
      },
      onRunning: progress,
      requeue: (r) => enqueue(queue, data, [r], { attempts: o.attempts, resume: true }),
    });
  } catch (e) {
    if (e instanceof HcdError) throw new HcdError(q.scrub(e.message), e.exitCode);
    throw new HcdError(`queue ${q.masked}: ${q.scrub((e as Error).message.split('\n')[0])}`);
  } finally {
    await queue.close().catch(() => undefined);
  }
  const last = j.state.chunks.at(-1);
  markComplete(j, last ? last.startFrame + last.frames : 0);
  return encoded;
}

function recordResult(j: ClaimedJob, r: ChunkRange, res: ChunkJobResult): number {
  const rec = res.record!;
  if (rec.index !== r.index || rec.startFrame !== r.startFrame || rec.frames > r.frames) throw new HcdError(`chunk ${r.index}: a worker returned the record of another chunk`);
  recordChunk(j, rec, res.info);
  return rec.frames;
}
