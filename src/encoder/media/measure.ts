import { stat } from 'node:fs/promises';
import { fileArg, probe, runFfprobe } from './ffmpeg.js';
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

export interface EncodedSize {
  /** The MP4 file as written (container included). */
  fileBytes: number;
  /** Sum of the video packets in it: the H.264 bits a viewer pays for, whatever the container. */
  payloadBytes: number;
}

/** Sizes of an encoded file, measured from the file itself. */
export async function measureSize(mp4: string): Promise<EncodedSize> {
  const { stdout } = await runFfprobe(['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=size', '-of', 'csv=p=0', fileArg(mp4)]);
  const payloadBytes = stdout
    .toString('utf8')
    .split('\n')
    .map((l) => Number(l.trim().replace(/,$/, '')))
    .filter((n) => n > 0)
    .reduce((a, b) => a + b, 0);
  return { fileBytes: (await stat(mp4)).size, payloadBytes };
}
