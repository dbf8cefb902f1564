import { HcdError } from '../../shared/errors.js';
import type { AacTrack } from '../media/audio.js';
import type { RenditionInfo } from '../media/measure.js';
import { ChunkRunner } from './chunks.js';
import { framesAhead } from './frames.js';
import { interrupted } from './interrupted.js';
import { hasNeuralRung, NO_LR, type OpenJob } from './open.js';
import { SceneCutDetector } from '../media/scenecut.js';
import type { ChunkRecord } from './state.js';
import { StageTimers } from './timers.js';

/** One chunk of a job: its index, its first frame and its frames (fewer where the input ends first). */
export interface ChunkRange {
  index: number;
  startFrame: number;
  frames: number;
}

export interface RangeResult {
  record: ChunkRecord;
  info: Record<string, RenditionInfo>;
}

/**
 * Encodes one chunk on its own, to the bytes the whole-input run gives it: every state that
 * crosses frames (scene detection, HCD warm starts, the codec loop) starts afresh at a chunk
 * start there too. A seekable source (constant rate, first frame at 0 s) is read from the
 * chunk's first frame by seeking to its time, so a chunk late in a long title costs no more than
 * an early one; any other source is decoded from its start and the frames before the chunk are
 * skipped, which is frame-exact whatever its timing, at the cost of decoding them.
 * Its segments are put in place; recording them is the caller's. `onFrames` hears the frames
 * encoded so far, 0 once the chunk's first frame is decoded. Undefined when the input ends
 * before the chunk starts.
 */
export async function encodeRange(j: OpenJob, range: ChunkRange, tracks: Promise<Map<string, AacTrack>>, signal?: AbortSignal, onFrames?: (n: number) => void): Promise<RangeResult | undefined> {
  let result: RangeResult | undefined;
  const chunks = new ChunkRunner(j, new StageTimers(), signal, { audio: tracks, onChunk: (record, info) => (result = { record, info }) });
  const scenes = new SceneCutDetector();
  const first = j.src.seekable ? range.startFrame : 0;
  const frames = framesAhead(j, first);
  const end = range.startFrame + range.frames;
  try {
    for (let n = first; n < end; n++) {
      if (signal?.aborted) throw interrupted();
      const next = await frames.next();
      if (next.done) break;
      if (n < range.startFrame) continue;
      if (n === range.startFrame) onFrames?.(0);
      const hr = { width: j.geo.width, height: j.geo.height, data: next.value };
      const sceneCut = scenes.next(hr);
      const lr = hasNeuralRung(j) ? (await j.rescaler.process(hr, { index: n, sceneCut })).data : NO_LR;
      await chunks.add(n, hr.data, lr);
      onFrames?.(n + 1 - range.startFrame);
    }
    if (signal?.aborted) throw interrupted();
    await chunks.flush();
  } catch (e) {
    await chunks.abort();
    if (e instanceof HcdError) throw e;
    throw new HcdError(`chunk ${range.index} failed: ${(e as Error).message.split('\n')[0]}`);
  } finally {
    await frames.return(undefined);
  }
  return result;
}
