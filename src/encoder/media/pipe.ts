import { spawn } from 'node:child_process';
import { ffmpegPath } from './ffmpeg.js';

/**
 * Runs ffmpeg with `frames` written to its stdin (raw video, whatever the args declare),
 * respecting backpressure so that a long clip never sits in memory. Resolves with stderr.
 */
export async function ffmpegWithFrames(args: string[], frames: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<string> {
  const child = spawn(ffmpegPath(), ['-hide_banner', '-nostdin', '-y', ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
  const err: Buffer[] = [];
  child.stderr.on('data', (b: Buffer) => err.push(b));
  const closed = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  let writeError: Error | undefined;
  child.stdin.on('error', (e) => {
    writeError = e;
  });
  try {
    for await (const f of frames) {
      if (writeError || child.exitCode !== null) break;
      if (!child.stdin.write(f)) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            child.stdin.off('drain', done);
            child.stdin.off('close', done);
            resolve();
          };
          child.stdin.on('drain', done);
          child.stdin.on('close', done);
        });
      }
    }
  } finally {
    child.stdin.end();
  }
  const code = await closed;
  const stderr = Buffer.concat(err).toString('utf8');
  if (code !== 0) {
    const tail = stderr.trim().split('\n').slice(-3).join(' | ');
    throw new Error(`ffmpeg exited with code ${code}: ${tail}`);
  }
  return stderr;
}

/** Input args for packed RGB24 frames on stdin. */
export function rawRgbInput(width: number, height: number, fps: string): string[] {
  return ['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-framerate', fps, '-i', 'pipe:0'];
}

/** Decoded BT.709 limited-range YUV to RGB the way readFrames (and a browser) does it. */
export const YUV709_TO_RGB = 'scale=flags=bicubic+accurate_rnd+full_chroma_int:in_color_matrix=bt709:in_range=tv,format=rgb24';

/**
 * Displayed RGB to the space we measure in: BT.709 YCbCr 4:4:4. Reference and every pipeline go
 * through the same RGB step, so a pipeline that works on RGB frames (the learned ones) is not
 * charged for colour conversions that the displayed picture does not have; no chroma is thrown
 * away at measurement time.
 */
export const RGB_TO_MEASURED = 'scale=flags=accurate_rnd:out_color_matrix=bt709:out_range=tv,format=yuv444p';

/** RGB to the BT.709 limited-range 4:2:0 our renditions use. */
export const RGB_TO_YUV709 = 'scale=out_color_matrix=bt709:out_range=tv:flags=bicubic+accurate_rnd+full_chroma_int,format=yuv420p';
