import { probe } from './ffmpeg.js';
import { AAC_LC, avcCodecString } from './codecs.js';

/** What a player needs to know of a rendition, measured from its files. */
export interface RenditionInfo {
  codecs: string;
  width: number;
  height: number;
  frameRate: number;
}

/** RESOLUTION, FRAME-RATE and CODECS of a rendition, read from one of its segments. */
export async function measureSegment(segment: string): Promise<RenditionInfo> {
  const info = await probe(segment);
  const v = info.streams.find((s) => s.codec_type === 'video');
  if (!v) throw new Error(`segment ${segment} has no video`);
  const [n, d] = (v.r_frame_rate ?? '0/1').split('/').map(Number);
  const codecs = [await avcCodecString(segment)];
  if (info.streams.some((s) => s.codec_type === 'audio')) codecs.push(AAC_LC);
  return { codecs: codecs.join(','), width: v.width ?? 0, height: v.height ?? 0, frameRate: d ? n / d : 0 };
}
