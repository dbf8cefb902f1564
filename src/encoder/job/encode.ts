import { rmSync } from 'node:fs';
import { resolveEncodeConfig, type EncodeInput } from '../../config.js';
import { HcdError } from '../../shared/errors.js';
import { checkOutputFolder, isDiskFull } from '../media/files.js';
import { diskFull } from './interrupted.js';
import { finishLadder } from './measured.js';
import { closeSessions, openJob, type EncodeDeps } from './open.js';
import { writePlaylists } from './publish.js';
import { runFrames, type FrameProgress } from './run.js';
import { summarize, type EncodeSummary, type RunResult } from './summary.js';
import { StageTimers } from './timers.js';

export type { EncodeSummary, FrameProgress };

/** What a caller gives: input and output, the rest from DEFAULTS.encode (src/config.ts). */
export type EncodeOptions = EncodeInput & { signal?: AbortSignal };

export interface EncodeHooks {
  onFrame?(p: FrameProgress): void;
  onWarning?(message: string): void;
  /** Lines for people that are no warning (where a queued encode runs). */
  onNote?(line: string): void;
}

/**
 * The whole encode: decode once, rescale each frame, feed every rendition's x264 by pipe, one
 * segment-long chunk at a time, recording each finished chunk so an interrupted run resumes
 * where it stopped. `deps` lets tests hand in a pair or a rescaler directly.
 */
export async function encodeVideo(options: EncodeOptions, hooks: EncodeHooks = {}, deps: EncodeDeps = {}): Promise<EncodeSummary> {
  const t0 = performance.now();
  const { signal, ...given } = options;
  const cfg = resolveEncodeConfig(given);
  checkOutputFolder(cfg.outdir);
  try {
    const j = await openJob(cfg, hooks, deps);
    const timers = new StageTimers();
    let run: RunResult = { encodedFrames: 0, loopStats: [] };
    if (j.state.complete) await closeSessions(j);
    else run = await runFrames(j, timers, hooks.onFrame, signal);
    writePlaylists(j, true);
    run.quality = await finishLadder(j, hooks.onNote);
    rmSync(j.work, { recursive: true, force: true });
    return summarize(j, run, timers, (performance.now() - t0) / 1000);
  } catch (e) {
    // claiming OUTDIR and the last playlists write outside the frame loop, which says this itself
    if (!(e instanceof HcdError) && isDiskFull(e)) throw diskFull(cfg.outdir);
    throw e;
  }
}
