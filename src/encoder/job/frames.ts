import { HcdError } from '../../shared/errors.js';
import { readFrames } from '../media/decode.js';
import type { OpenJob } from './open.js';

/**
 * The input's frames at the job's geometry, one frame decoded ahead: the next frame is requested
 * before this one is returned, so ffmpeg decodes it while the caller rescales and encodes.
 */
export async function* framesAhead(j: OpenJob): AsyncGenerator<Uint8Array> {
  const { cfg, src, geo } = j;
  const frames = readFrames(cfg.input, { width: geo.width, height: geo.height, seconds: cfg.seconds, matrix: src.matrix, range: src.range, filter: geo.crop, strict: true });
  let ahead = frames.next();
  ahead.catch(() => undefined); // observed here, thrown where it is awaited
  let n = 0;
  try {
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await ahead;
      } catch (e) {
        throw new HcdError(`cannot decode ${cfg.input} at frame ${n}: corrupt or truncated data (${(e as Error).message.split('\n')[0].slice(0, 160)})`);
      }
      if (next.done) return;
      ahead = frames.next();
      ahead.catch(() => undefined);
      n++;
      yield next.value;
    }
  } finally {
    await frames.return(undefined); // stops the decoder if we left early
  }
}
