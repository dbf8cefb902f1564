import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomic } from '../media/files.js';
import { masterPlaylist } from './master.js';
import { IFRAME_PLAYLIST, initName, MASTER, MASTER_PLAIN, MEDIA_PLAYLIST } from './names.js';
import type { ClaimedJob } from './open.js';
import { iframePlaylist, mediaPlaylist } from './playlist.js';
import { audioSegments, iframeEntries, videoSegments } from './segments.js';
import { mastersOf } from './variants.js';

/**
 * Every playlist, from the recorded chunks alone: per video rendition its media and I-frame
 * playlist, per audio group its media playlist, then the two masters. While the encode runs they
 * are EVENT playlists without ENDLIST, so a player never takes a half-done encode for a finished one.
 */
export function writePlaylists(j: ClaimedJob, complete: boolean): void {
  const map = initName(j.tag);
  for (const r of [...j.audio, ...j.renditions]) mkdirSync(join(j.out, r.name), { recursive: true });
  for (const a of j.audio) writeAtomic(join(j.out, a.name, MEDIA_PLAYLIST), mediaPlaylist(audioSegments(j, a.name), complete, map));
  for (const r of j.renditions) {
    writeAtomic(join(j.out, r.name, MEDIA_PLAYLIST), mediaPlaylist(videoSegments(j, r.name), complete, map));
    writeAtomic(join(j.out, r.name, IFRAME_PLAYLIST), iframePlaylist(iframeEntries(j, r.name), complete, map));
  }
  const { main, plain } = mastersOf(j);
  if (main) writeAtomic(join(j.out, MASTER), masterPlaylist(main));
  if (plain) writeAtomic(join(j.out, MASTER_PLAIN), masterPlaylist(plain));
}
