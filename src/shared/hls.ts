/**
 * The contract between the encoder's master playlist and the player.
 *
 *   #EXT-X-SESSION-DATA:DATA-ID="org.hcd-stream.upscaler",URI="upscaler/manifest.json"
 *   #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio-20k",...,URI="audio-20k/index.m3u8"
 *   #EXT-X-STREAM-INF:...,RESOLUTION=640x360,...,AUDIO="audio-64k"   (a source rendition: no X-UPSCALE)
 *   src-800k/index.m3u8
 *   #EXT-X-STREAM-INF:BANDWIDTH=..,AVERAGE-BANDWIDTH=..,RESOLUTION=320x180,CODECS="avc1.64000d,mp4a.40.2",
 *       FRAME-RATE=24.000,AUDIO="audio-20k",CLOSED-CAPTIONS=NONE,X-UPSCALE=2,X-HCD-MODEL="hcd-x2"
 *   lr-150k/index.m3u8
 *   #EXT-X-I-FRAME-STREAM-INF:...,X-UPSCALE=2,X-HCD-MODEL="hcd-x2",URI="lr-150k/iframes.m3u8"
 *
 * URI is relative to the master playlist and points to an UpscalerManifest (src/shared/manifest.ts).
 * A variant with X-UPSCALE is an LR rendition: the player upscales it by that factor with the
 * session's model. Variants without it are drawn as they are.
 */
export const SESSION_DATA_ID = 'org.hcd-stream.upscaler';
export const ATTR_UPSCALE = 'X-UPSCALE';
export const ATTR_MODEL = 'X-HCD-MODEL';

/** The largest factor a pair may scale by (PairManifest and UpscalerManifest allow 2-8). */
const MAX_UPSCALE = 8;

/**
 * A variant's X-UPSCALE value as the factor the player upscales it by: an integer 2-8 written as
 * digits, else 0, which draws the variant as it is (a broken attribute never sizes a canvas).
 */
export function upscaleOf(attr: string | undefined): number {
  if (attr === undefined || !/^\d{1,2}$/.test(attr)) return 0;
  const s = Number(attr);
  return s >= 2 && s <= MAX_UPSCALE ? s : 0;
}

/** The session data's URI made absolute against the playlist's URL; undefined where either is no URL. */
export function upscalerUrl(uri: string, base: string | undefined): string | undefined {
  try {
    return new URL(uri, base).href;
  } catch {
    return undefined;
  }
}

/** One `#EXT-X-STREAM-INF` variant of a master playlist. */
export interface MasterVariant {
  /** The variant playlist's URI as written (relative to the master). */
  uri: string;
  /** From RESOLUTION; 0 when absent or malformed. */
  width: number;
  height: number;
  attrs: Record<string, string>;
}

export interface MasterPlaylist {
  variants: MasterVariant[];
  /** `#EXT-X-SESSION-DATA` attributes by DATA-ID. */
  sessionData: Record<string, Record<string, string>>;
}

/** An attribute list (RFC 8216 §4.2): quoted values lose their quotes and may hold commas. */
export function parseAttributes(list: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of list.matchAll(/([A-Z0-9-]+)=("[^"]*"|[^,]*)/g)) {
    const v = m[2];
    out[m[1]] = v.startsWith('"') ? v.slice(1, -1) : v.trim();
  }
  return out;
}

function resolution(attr: string | undefined): [number, number] {
  const m = /^(\d{1,5})x(\d{1,5})$/.exec(attr ?? '');
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

/**
 * The variants and session data of a master playlist, for players without hls.js (native HLS)
 * and for a player that arrives after hls.js has parsed the playlist. Lines it does not know are
 * skipped; a text that is no playlist gives no variants.
 */
export function parseMasterPlaylist(text: string): MasterPlaylist {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const out: MasterPlaylist = { variants: [], sessionData: {} };
  if (lines[0] !== '#EXTM3U') return out;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('#EXT-X-SESSION-DATA:')) {
      const attrs = parseAttributes(line.slice('#EXT-X-SESSION-DATA:'.length));
      if (attrs['DATA-ID']) out.sessionData[attrs['DATA-ID']] = attrs;
    } else if (line.startsWith('#EXT-X-STREAM-INF:')) {
      const attrs = parseAttributes(line.slice('#EXT-X-STREAM-INF:'.length));
      // the URI is the next line that is neither blank nor a tag or comment
      let j = i + 1;
      while (j < lines.length && (lines[j] === '' || lines[j].startsWith('#'))) j++;
      if (j >= lines.length) break;
      const [width, height] = resolution(attrs.RESOLUTION);
      out.variants.push({ uri: lines[j], width, height, attrs });
      i = j;
    }
  }
  return out;
}
