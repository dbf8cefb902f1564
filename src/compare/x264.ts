import { stat } from 'node:fs/promises';
import { fileArg, runFfmpeg, runFfprobe } from '../encoder/media/ffmpeg.js';

/** One set of x264 settings for every pipeline, so that only the pixels differ. */
export interface X264Settings {
  preset: string;
  /** Frames between keyframes (fixed, no scene-cut keyframes): like an HLS segment cadence. */
  keyint: number;
  threads: number;
}

/** The settings as they go in the report. */
export function describeX264(s: X264Settings): Record<string, string | number> {
  return {
    encoder: 'libx264',
    preset: s.preset,
    tune: 'none',
    pix_fmt: 'yuv420p',
    colour: 'bt709 limited range (VUI tagged)',
    keyint: s.keyint,
    scenecut: 0,
    threads: s.threads,
    rate_control: 'crf',
  };
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

/** Encodes a y4m (or any) video at one CRF into an MP4 and measures its size. */
export async function encodeX264(input: string, crf: number, outMp4: string, s: X264Settings): Promise<EncodedSize> {
  await runFfmpeg([
    '-i', fileArg(input),
    '-an',
    '-c:v', 'libx264', '-preset', s.preset, '-crf', String(crf),
    // no -tune: x264's "no tuning" (it rejects the word "none")
    '-x264-params', `keyint=${s.keyint}:min-keyint=${s.keyint}:scenecut=0`,
    '-threads', String(s.threads),
    '-pix_fmt', 'yuv420p',
    '-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-color_range', 'tv',
    '-movflags', '+faststart',
    fileArg(outMp4),
  ]);
  return measureSize(outMp4);
}
