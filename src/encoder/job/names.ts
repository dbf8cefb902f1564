import { createHash } from 'node:crypto';
import type { Job } from './state.js';

/**
 * The files inside a rendition folder. Init and media segments carry the job's tag: a re-encode
 * of another job into the same folder gives them new names, so a player still holding the old
 * media playlist (hls.js loads a VOD playlist once) gets 404 for the old names instead of new
 * segments that do not match the init segment it already has. Playlists keep their names and
 * are revalidated (the server's ETags).
 */
export const MEDIA_PLAYLIST = 'index.m3u8';
export const IFRAME_PLAYLIST = 'iframes.m3u8';
export const MASTER = 'master.m3u8';
/** The master for players without the upscaler: source-size rungs only. */
export const MASTER_PLAIN = 'master-plain.m3u8';

/** 8 hex digits of the job record's hash: equal jobs (whose files are equal) share it. */
export function jobTag(job: Job): string {
  return createHash('sha256').update(JSON.stringify(job)).digest('hex').slice(0, 8);
}

export const initName = (tag: string): string => `init-${tag}.mp4`;
export const segmentName = (tag: string, index: number): string => `seg-${tag}-${String(index).padStart(5, '0')}.m4s`;
