import { HcdError } from '../../shared/errors.js';
import { readFrames, sourceFramesRead, type DecodeReport } from '../media/decode.js';
import type { JobPlan } from './open.js';

/**
 * Frames to hold the last one for. ffmpeg shows a variable-rate source's last frame for about one
 * frame at the reading rate, however long the source shows it; the length the container gives
 * is held to, but only once every frame it promises was read: a file cut short is no long frame.
 */
function holdFor(j: JobPlan, n: number, report: DecodeReport | undefined): number {
  const { src, expected } = j;
  if (!report || !src.variable || !src.framesExact || n === 0 || n >= expected) return 0;
  return sourceFramesRead(report) >= src.sourceFrames - 1 ? expected - n : 0;
}

/**
 * The input's frames at the job's geometry and rate, one frame decoded ahead: the next frame is
 * requested before this one is returned, so ffmpeg decodes it while the caller rescales and encodes.
 * From frame `from` (0 by default) on, by seeking to its time; only for a seekable source.
 */
export async function* framesAhead(j: JobPlan, from = 0): AsyncGenerator<Uint8Array> {
  const { cfg, src, geo } = j;
  if (from > 0 && !src.seekable) throw new Error('frames of a source that is not seekable are read from its start');
  const rate = `${src.fpsNum}/${src.fpsDen}`;
  const start = from > 0 ? (from * src.fpsDen) / src.fpsNum : undefined;
  const limit = j.limit === undefined ? undefined : j.limit - from;
  const frames = readFrames(cfg.input, { width: geo.width, height: geo.height, rate, frames: limit, start, matrix: src.matrix, range: src.range, filter: geo.crop, strict: true });
  let ahead = frames.next();
  ahead.catch(() => undefined); // observed here, thrown where it is awaited
  let n = 0;
  let last: Uint8Array | undefined;
  try {
    for (;;) {
      let next: IteratorResult<Uint8Array, DecodeReport | undefined>;
      try {
        next = await ahead;
      } catch (e) {
        throw new HcdError(`cannot decode ${cfg.input} at frame ${from + n}: corrupt or truncated data (${(e as Error).message.split('\n')[0].slice(0, 160)})`);
      }
      if (next.done) {
        for (let k = holdFor(j, n, next.value); k > 0; k--) yield last!.slice();
        return;
      }
      ahead = frames.next();
      ahead.catch(() => undefined);
      n++;
      last = next.value;
      yield next.value;
    }
  } finally {
    await frames.return(undefined); // stops the decoder if we left early
  }
}
