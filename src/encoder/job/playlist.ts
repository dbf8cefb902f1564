import { ATTR_MODEL, ATTR_UPSCALE, SESSION_DATA_ID } from '../../shared/hls.js';

export interface SegmentEntry {
  uri: string;
  /** Seconds, from the frame count: exact, not rounded by a muxer. */
  duration: number;
  bytes: number;
}

/**
 * A media playlist. While the encode is running it is an EVENT playlist without ENDLIST, so a
 * player never takes a half-done encode for a finished one; at the end it becomes VOD.
 */
export function mediaPlaylist(segments: SegmentEntry[], complete: boolean): string {
  const target = Math.max(1, ...segments.map((s) => Math.ceil(s.duration - 1e-6)));
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${target}`, '#EXT-X-MEDIA-SEQUENCE:0'];
  lines.push(`#EXT-X-PLAYLIST-TYPE:${complete ? 'VOD' : 'EVENT'}`);
  for (const s of segments) lines.push(`#EXTINF:${s.duration.toFixed(6)},`, s.uri);
  if (complete) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

/** Peak segment bitrate and mean bitrate, in bits/s, over the segments' full bytes (video + audio + TS overhead). */
export function bandwidths(segments: SegmentEntry[]): { peak: number; average: number } {
  let peak = 0;
  let bits = 0;
  let dur = 0;
  for (const s of segments) {
    peak = Math.max(peak, (s.bytes * 8) / s.duration);
    bits += s.bytes * 8;
    dur += s.duration;
  }
  return { peak: Math.ceil(peak), average: dur > 0 ? Math.ceil(bits / dur) : 0 };
}

export interface VariantEntry {
  uri: string;
  bandwidth: number;
  averageBandwidth: number;
  width: number;
  height: number;
  codecs: string;
  frameRate: number;
  /** Set for LR renditions: the player upscales by this with the session's model. */
  upscale?: { scale: number; model: string };
}

/** The master playlist, following the contract in src/shared/hls.ts. */
export function masterPlaylist(variants: VariantEntry[], upscalerManifestUri: string): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-INDEPENDENT-SEGMENTS'];
  lines.push(`#EXT-X-SESSION-DATA:DATA-ID="${SESSION_DATA_ID}",URI="${upscalerManifestUri}"`);
  for (const v of variants) {
    const attrs = [
      `BANDWIDTH=${v.bandwidth}`,
      `AVERAGE-BANDWIDTH=${v.averageBandwidth}`,
      `RESOLUTION=${v.width}x${v.height}`,
      `CODECS="${v.codecs}"`,
      `FRAME-RATE=${v.frameRate.toFixed(3)}`,
    ];
    if (v.upscale) attrs.push(`${ATTR_UPSCALE}=${v.upscale.scale}`, `${ATTR_MODEL}="${v.upscale.model}"`);
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, v.uri);
  }
  return `${lines.join('\n')}\n`;
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
