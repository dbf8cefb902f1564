/**
 * Media playlists (fMP4: EXT-X-MAP to the rendition's init segment), I-frame playlists, and the
 * bandwidth numbers of a list of segments. The master playlists are in master.ts.
 */

export interface SegmentEntry {
  uri: string;
  /** Seconds, from the frame count: exact, not rounded by a muxer. */
  duration: number;
  bytes: number;
}

/** An I-frame: its segment, where it lies in it (the moof through the I-frame's sample), and the time to the next one. */
export interface IFrameEntry extends SegmentEntry {
  offset: number;
}

/** RFC 8216 4.3.3.1: every EXTINF, rounded to the nearest integer, is at most the target duration. */
export function targetDuration(segments: readonly { duration: number }[]): number {
  return Math.max(1, ...segments.map((s) => Math.round(s.duration)));
}

/**
 * The tags before the first segment. While the encode is running a playlist is EVENT without
 * ENDLIST, so a player never takes a half-done encode for a finished one; at the end it is VOD.
 */
function header(version: number, segments: SegmentEntry[], complete: boolean, extra: string[]): string[] {
  return [
    '#EXTM3U',
    `#EXT-X-VERSION:${version}`,
    `#EXT-X-TARGETDURATION:${targetDuration(segments)}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    `#EXT-X-PLAYLIST-TYPE:${complete ? 'VOD' : 'EVENT'}`,
    ...extra,
  ];
}

const end = (lines: string[], complete: boolean): string => `${[...lines, ...(complete ? ['#EXT-X-ENDLIST'] : [])].join('\n')}\n`;

/** A media playlist of fMP4 segments; version 6 for EXT-X-MAP outside an I-frame playlist. */
export function mediaPlaylist(segments: SegmentEntry[], complete: boolean, map: string): string {
  const lines = header(6, segments, complete, [`#EXT-X-MAP:URI="${map}"`]);
  for (const s of segments) lines.push(`#EXTINF:${s.duration.toFixed(6)},`, s.uri);
  return end(lines, complete);
}

/** An I-frame playlist: byte ranges into the media segments; version 5 for EXT-X-MAP with EXT-X-I-FRAMES-ONLY (4 for the ranges). */
export function iframePlaylist(iframes: IFrameEntry[], complete: boolean, map: string): string {
  const lines = header(5, iframes, complete, ['#EXT-X-I-FRAMES-ONLY', `#EXT-X-MAP:URI="${map}"`]);
  for (const f of iframes) lines.push(`#EXTINF:${f.duration.toFixed(6)},`, `#EXT-X-BYTERANGE:${f.bytes}@${f.offset}`, f.uri);
  return end(lines, complete);
}

/**
 * BANDWIDTH and AVERAGE-BANDWIDTH in bits/s. The peak follows RFC 8216bis (4.4.6.2): the highest
 * bitrate of any run of consecutive segments lasting 0.5 to 1.5 target durations, so a short
 * last segment counts only together with the one before it. With no such run (a clip shorter
 * than half a target duration) the whole is the only measure.
 */
export function bandwidths(segments: SegmentEntry[]): { peak: number; average: number } {
  const target = targetDuration(segments);
  let peak = 0;
  for (let i = 0; i < segments.length; i++) {
    let bits = 0;
    let dur = 0;
    for (let k = i; k < segments.length && dur < 1.5 * target; k++) {
      bits += segments[k].bytes * 8;
      dur += segments[k].duration;
      if (dur >= 0.5 * target && dur <= 1.5 * target) peak = Math.max(peak, bits / dur);
    }
  }
  const bits = segments.reduce((n, s) => n + s.bytes * 8, 0);
  const dur = segments.reduce((n, s) => n + s.duration, 0);
  const average = dur > 0 ? bits / dur : 0;
  return { peak: Math.ceil(peak || average), average: Math.ceil(average) };
}

/**
 * Attribute list of a tag line, quoted values unquoted. Each value must end at a comma or the end
 * of the line, so a quote left open gives no value rather than a shortened one.
 */
export function parseAttributes(line: string): Record<string, string> {
  const body = line.slice(line.indexOf(':') + 1);
  const out: Record<string, string> = {};
  const re = /([A-Z0-9-]+)=("[^"]*"|[^",]*)(?=,|$)/g;
  for (let m = re.exec(body); m; m = re.exec(body)) out[m[1]] = m[2].startsWith('"') ? m[2].slice(1, -1) : m[2];
  return out;
}
