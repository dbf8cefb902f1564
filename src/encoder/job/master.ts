import { ATTR_MODEL, ATTR_UPSCALE, SESSION_DATA_ID } from '../../shared/hls.js';

/** An EXT-X-MEDIA audio rendition: the only one of its group. */
export interface AudioEntry {
  group: string;
  uri: string;
}

/** What a video variant (EXT-X-STREAM-INF) and its I-frame variant have in common. */
interface VideoEntry {
  uri: string;
  bandwidth: number;
  averageBandwidth: number;
  width: number;
  height: number;
  codecs: string;
  /** Set for LR renditions: the player upscales by this with the session's model. */
  upscale?: { scale: number; model: string };
}

export interface VariantEntry extends VideoEntry {
  frameRate: number;
  /** The GROUP-ID of its audio; its CODECS include the group's codec. */
  audio?: string;
}

export type IFrameVariantEntry = VideoEntry;

export interface MasterContent {
  /** In the order a player should see them: the first is where a player without its own choice starts. */
  variants: VariantEntry[];
  audio: AudioEntry[];
  iframes: IFrameVariantEntry[];
  /** The upscaler manifest's URI for the session data; absent in the master for plain players. */
  upscaler?: string;
}

/**
 * Every rendition of a group is the same programme, so all have one NAME: a player switching
 * variants (and with them audio groups) keeps the same track. All are AAC-LC stereo.
 */
const AUDIO_NAME = 'Main';

function videoAttrs(v: VideoEntry): string[] {
  return [`BANDWIDTH=${v.bandwidth}`, `AVERAGE-BANDWIDTH=${v.averageBandwidth}`, `RESOLUTION=${v.width}x${v.height}`, `CODECS="${v.codecs}"`];
}

const upscaleAttrs = (v: VideoEntry): string[] => (v.upscale ? [`${ATTR_UPSCALE}=${v.upscale.scale}`, `${ATTR_MODEL}="${v.upscale.model}"`] : []);

/**
 * A master playlist, following the contract in src/shared/hls.ts. Version 6: none of its own
 * tags needs more, and it is the version of the media playlists it lists (EXT-X-MAP).
 */
export function masterPlaylist(m: MasterContent): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:6', '#EXT-X-INDEPENDENT-SEGMENTS'];
  if (m.upscaler) lines.push(`#EXT-X-SESSION-DATA:DATA-ID="${SESSION_DATA_ID}",URI="${m.upscaler}"`);
  for (const a of m.audio) {
    lines.push(`#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="${a.group}",NAME="${AUDIO_NAME}",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="${a.uri}"`);
  }
  for (const v of m.variants) {
    const attrs = [...videoAttrs(v), `FRAME-RATE=${v.frameRate.toFixed(3)}`, ...(v.audio ? [`AUDIO="${v.audio}"`] : []), 'CLOSED-CAPTIONS=NONE', ...upscaleAttrs(v)];
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, v.uri);
  }
  for (const f of m.iframes) lines.push(`#EXT-X-I-FRAME-STREAM-INF:${[...videoAttrs(f), ...upscaleAttrs(f), `URI="${f.uri}"`].join(',')}`);
  return `${lines.join('\n')}\n`;
}
