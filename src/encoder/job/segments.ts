import type { IFrameEntry, SegmentEntry } from './playlist.js';
import { segmentName } from './names.js';
import type { ClaimedJob } from './open.js';
import type { ChunkRecord, Rendition } from './state.js';

/** What the playlists are made from: the recorded chunks alone. */
export type Recorded = Pick<ClaimedJob, 'state' | 'src' | 'tag'>;

const inOrder = (j: Recorded): ChunkRecord[] => [...j.state.chunks].sort((a, b) => a.index - b.index);
const seconds = (j: Recorded, frames: number): number => (frames * j.src.fpsDen) / j.src.fpsNum;

/** Every recorded chunk of a video rendition, in order. */
export function videoSegments(j: Recorded, name: string): SegmentEntry[] {
  return inOrder(j).map((c) => ({ uri: segmentName(j.tag, c.index), duration: seconds(j, c.frames), bytes: c.bytes[name] }));
}

/** The audio segments of a group, each as long as its AAC frames; a chunk too short to start one has none. */
export function audioSegments(j: Recorded, name: string): SegmentEntry[] {
  return inOrder(j).flatMap((c) => (c.audio !== undefined && c.bytes[name] !== undefined ? [{ uri: segmentName(j.tag, c.index), duration: c.audio, bytes: c.bytes[name] }] : []));
}

/** Every I-frame of a video rendition: one per GOP, each lasting until the next. */
export function iframeEntries(j: Recorded, name: string): IFrameEntry[] {
  return inOrder(j).flatMap((c) => (c.iframes[name] ?? []).map(([offset, length, frames]) => ({ uri: segmentName(j.tag, c.index), offset, bytes: length, duration: seconds(j, frames) })));
}

/** A variant's segments as a player fetches them: video and its audio group's segment of the same chunk, timed by the video. */
export function variantSegments(j: Recorded, r: Rendition): SegmentEntry[] {
  const chunks = inOrder(j);
  return videoSegments(j, r.name).map((s, i) => ({ ...s, bytes: s.bytes + (r.audio ? (chunks[i].bytes[r.audio] ?? 0) : 0) }));
}
