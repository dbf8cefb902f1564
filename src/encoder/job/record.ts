import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { RenditionInfo } from '../media/measure.js';
import { segmentName } from './names.js';
import type { ClaimedJob } from './open.js';
import { writePlaylists } from './publish.js';
import { writeState, type ChunkRecord } from './state.js';

/**
 * Records a finished chunk whose segments are in place: playlists, then state.json. The
 * renditions' measured info is the lowest recorded chunk's, so chunks recorded in any order (a
 * queue's workers finish out of order) give the state a run in order gives.
 */
export function recordChunk(j: ClaimedJob, record: ChunkRecord, info: Record<string, RenditionInfo>): void {
  const { state, out } = j;
  try {
    const first = state.chunks.every((c) => c.index > record.index);
    for (const [name, i] of Object.entries(info)) if (first || !state.info[name]) state.info[name] = i;
    state.chunks = [...state.chunks.filter((c) => c.index !== record.index), record].sort((a, b) => a.index - b.index);
    // playlists first: killed in between, they list a segment that is complete but unrecorded,
    // which --resume redoes to the same bytes; the other order could leave no playlist at all
    writePlaylists(j, false);
    writeState(out, state);
  } catch (e) {
    unpublish(j, record.index);
    throw e;
  }
}

/**
 * Takes back a chunk whose segments are in place but whose recording failed (a full disk):
 * its segments go, which frees room to list the recorded ones again. state.json, written
 * last, still holds what it held before.
 */
function unpublish(j: ClaimedJob, index: number): void {
  const { state, out, renditions, audio, tag } = j;
  state.chunks = state.chunks.filter((ch) => ch.index !== index);
  for (const r of [...renditions, ...audio]) rmSync(join(out, r.name, segmentName(tag, index)), { force: true });
  try {
    writePlaylists(j, false);
  } catch {
    // the playlists on disk then list the recorded chunks and possibly this one, now gone
  }
}
