import { join } from 'node:path';
import { writeAtomic } from '../media/files.js';
import { segmentName } from './chunk.js';
import type { OpenJob } from './open.js';
import { bandwidths, masterPlaylist, mediaPlaylist, type SegmentEntry, type VariantEntry } from './playlist.js';
import { UPSCALER_MANIFEST } from './upscaler.js';

/** Every recorded chunk of one rendition as playlist entries, in order. */
export function segmentsOf(j: Pick<OpenJob, 'state' | 'src'>, rendition: string): SegmentEntry[] {
  const chunks = [...j.state.chunks].sort((a, b) => a.index - b.index);
  return chunks.map((c) => ({ uri: segmentName(c.index), duration: (c.frames * j.src.fpsDen) / j.src.fpsNum, bytes: c.bytes[rendition] }));
}

/**
 * The media playlists and the master, from the recorded chunks alone. While the encode runs they
 * are EVENT playlists without ENDLIST, so a player never takes a half-done encode for a finished one.
 */
export function writePlaylists(j: OpenJob, complete: boolean): void {
  const variants: VariantEntry[] = [];
  for (const r of j.renditions) {
    const segs = segmentsOf(j, r.name);
    writeAtomic(join(j.out, r.name, 'index.m3u8'), mediaPlaylist(segs, complete));
    const info = j.state.info[r.name];
    if (!info || segs.length === 0) continue;
    const bw = bandwidths(segs);
    variants.push({
      uri: `${r.name}/index.m3u8`,
      bandwidth: bw.peak,
      averageBandwidth: bw.average,
      width: info.width,
      height: info.height,
      codecs: info.codecs,
      frameRate: info.frameRate,
      upscale: r.kind === 'lr' ? { scale: j.pair.manifest.scale, model: j.pair.manifest.id } : undefined,
    });
  }
  if (variants.length) writeAtomic(join(j.out, 'master.m3u8'), masterPlaylist(variants, UPSCALER_MANIFEST));
}
