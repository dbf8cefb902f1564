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
