import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileArg, runFfmpeg } from '../src/encoder/media/ffmpeg.js';
import { makeFolder, produceAtomic } from '../src/encoder/media/files.js';

export const SAMPLE_PATH = join(dirname(fileURLToPath(import.meta.url)), 'sample.mp4');

export interface SampleOptions {
  seconds?: number;
  width?: number;
  height?: number;
  fps?: number;
}

/**
 * The filter graph of the sample: a Mandelbrot zoom (fine detail everywhere) with two test
 * patterns sliding over it (sharp edges, colour bars, a moving counter, motion in two
 * directions), and a tone for the audio path. All from ffmpeg's lavfi sources, so no
 * third-party media is involved and the same command gives the same pixels anywhere.
 */
export function sampleGraph(o: Required<SampleOptions>): string {
  const { width: w, height: h, fps, seconds } = o;
  const frames = Math.round(seconds * fps);
  const tw = Math.round(w / 2);
  const th = Math.round(h / 2);
  const cw = Math.round(w / 4);
  const ch = Math.round(h / 4);
  return [
    `mandelbrot=s=${w}x${h}:r=${fps}:maxiter=256:start_x=-0.743643887037151:start_y=0.13182590420533:start_scale=0.05:end_scale=0.004:end_pts=${frames}:outer=normalized_iteration_count[bg]`,
    `testsrc2=s=${tw}x${th}:r=${fps}[ts]`,
    `testsrc=s=${cw}x${ch}:r=${fps}:decimals=2[ct]`,
    `[bg][ts]overlay=x='mod(t*${Math.round(w / 3)}\\,${w + tw})-${tw}':y=${Math.round(h / 8)}:shortest=1[a]`,
    `[a][ct]overlay=x=${w - cw - 16}:y='${h - ch}-mod(t*${Math.round(h / 4)}\\,${h - ch})':shortest=1,format=yuv420p[out0]`,
  ].join(';');
}

/**
 * Writes the sample clip: H.264 at near-lossless quality (it is a source, not a rendition),
 * BT.709 tagged, with an AAC tone. Written to a temporary name and renamed, so a crash never
 * leaves a half-written sample that later runs would trust.
 */
export async function makeSample(out = SAMPLE_PATH, opts: SampleOptions = {}): Promise<string> {
  const o: Required<SampleOptions> = { seconds: 5, width: 640, height: 360, fps: 24, ...opts };
  makeFolder(dirname(out));
  await produceAtomic(
    out,
    (tmp) =>
      runFfmpeg([
        '-f', 'lavfi', '-i', sampleGraph(o),
        '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${o.seconds}`,
        '-map', '0:v', '-map', '1:a',
        '-t', String(o.seconds),
        '-c:v', 'libx264', '-preset', 'medium', '-crf', '6', '-threads', '1',
        '-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-color_range', 'tv',
        '-c:a', 'aac', '-b:a', '64k',
        '-fflags', '+bitexact', '-flags:v', '+bitexact', '-flags:a', '+bitexact', '-map_metadata', '-1',
        '-movflags', '+faststart',
        fileArg(tmp),
      ]),
    // ffmpeg picks the container by the name
    '.mp4',
  );
  return out;
}

/** The bundled sample, made on first use. */
export async function ensureSample(out = SAMPLE_PATH): Promise<string> {
  if (!existsSync(out)) await makeSample(out);
  return out;
}
