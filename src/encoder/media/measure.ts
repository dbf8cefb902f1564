import { probe } from './ffmpeg.js';
import { avcCodecString } from './codecs.js';

/** What a player needs to know of a video rendition, measured from its files. */
export interface RenditionInfo {
  /** The video's RFC 6381 codec; a variant adds its audio group's. */
  codecs: string;
  width: number;
  height: number;
  frameRate: number;
}

/** RESOLUTION, FRAME-RATE and CODECS of a video rendition, read from one whole chunk (init and fragments). */
export async function measureVideo(file: string): Promise<RenditionInfo> {
  const info = await probe(file);
  const v = info.streams.find((s) => s.codec_type === 'video');
  if (!v) throw new Error(`${file} has no video`);
  const [n, d] = (v.r_frame_rate ?? '0/1').split('/').map(Number);
  return { codecs: await avcCodecString(file), width: v.width ?? 0, height: v.height ?? 0, frameRate: d ? n / d : 0 };
}
