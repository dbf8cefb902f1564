import { HcdError } from '../../shared/errors.js';
import { isDiskFull } from '../media/files.js';
import { ChunkRunner } from './chunks.js';
import { framesAhead } from './frames.js';
import { diskFull, interrupted } from './interrupted.js';
import { closeSessions, hasNeuralRung, NO_LR, removeLeftovers, type ClaimedJob, type OpenJob } from './open.js';
import { SceneCutDetector } from '../media/scenecut.js';
import { writeState } from './state.js';
import type { RunResult } from './summary.js';
import type { StageTimers } from './timers.js';

export interface FrameProgress {
  frame: number;
  of: number;
  fps: number;
  eta_s: number;
}

/**
 * Reads the input to its end: each frame of a chunk not done yet is rescaled, measured for
 * flicker and handed to the chunk runner. Marks the state complete once every frame is read.
 * Closes the job's sessions whatever happens.
 */
export async function runFrames(j: OpenJob, timers: StageTimers, onFrame?: (p: FrameProgress) => void, signal?: AbortSignal): Promise<RunResult> {
  const chunks = new ChunkRunner(j, timers, signal);
  const scenes = new SceneCutDetector();
  const frames = framesAhead(j);
  const start = performance.now();
  let n = 0;
  let encodedFrames = 0;
  let flicker;
  // a ladder without neural rungs has no use for the LR frames: no rescaling at all
  const neural = hasNeuralRung(j);
  try {
    for (;;) {
      if (signal?.aborted) throw interrupted();
      const next = await timers.time('decode', () => frames.next());
      if (next.done) break;
      const frameNo = n++;
      if (chunks.isDone(frameNo)) continue;
      if (chunks.startsChunk()) scenes.reset();
      const hr = { width: j.geo.width, height: j.geo.height, data: next.value };
      const sceneCut = scenes.next(hr);
      const lr = neural ? (await timers.time('rescale', () => j.rescaler.process(hr, { index: frameNo, sceneCut }))).data : NO_LR;
      if (neural) await timers.time('flicker', async () => j.flicker?.add(hr, lr, sceneCut));
      await chunks.add(frameNo, hr.data, lr);
      encodedFrames++;
      onFrame?.(progress(j, n, encodedFrames, start));
    }
    // a Ctrl-C reaches the decoder too, which then ends its output early: not the end of the video
    if (signal?.aborted) throw interrupted();
    await chunks.flush();
  } catch (e) {
    await chunks.abort();
    removeLeftovers(j.out, j.work);
    if (signal?.aborted) throw interrupted();
    if (isDiskFull(e)) throw diskFull(j.out);
    if (e instanceof HcdError) throw e;
    throw new HcdError(`encoding failed: ${(e as Error).message.split('\n')[0]}`);
  } finally {
    await frames.return(undefined);
    flicker = j.flicker?.summary();
    await closeSessions(j);
  }
  markComplete(j, n);
  return { encodedFrames, loopStats: chunks.loopStats, flicker };
}

function progress(j: OpenJob, n: number, encoded: number, start: number): FrameProgress {
  const rate = encoded / Math.max((performance.now() - start) / 1000, 1e-3);
  const of = Number.isFinite(j.expected) ? j.expected : n;
  return { frame: n, of, fps: rate, eta_s: Math.max(0, (of - n) / rate) };
}

/** A file cut short can also decode "cleanly" to fewer frames than its index promises. */
export function markComplete(j: ClaimedJob, n: number): void {
  if (j.src.framesExact && n < j.expected - 1) throw new HcdError(`${j.cfg.input} ends after ${n} of ${j.expected} frames: the file is truncated or corrupt`);
  if (n === 0) throw new HcdError(`no frames could be decoded from ${j.cfg.input}`);
  j.state.complete = true;
  j.state.totalFrames = n;
  writeState(j.out, j.state);
}
