import { fileArg, runFfmpeg } from '../encoder/media/ffmpeg.js';
import { measureSize, type EncodedSize } from '../encoder/media/measure.js';

export type { EncodedSize };

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
