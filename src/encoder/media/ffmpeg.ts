import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import ffmpeg from 'fluent-ffmpeg';
import { HcdError } from '../../shared/errors.js';

const require = createRequire(import.meta.url);

function installerPath(pkg: string): string | undefined {
  try {
    return (require(pkg) as { path: string }).path;
  } catch {
    return undefined;
  }
}

/** The ffmpeg binary: FFMPEG_PATH wins, else the one bundled by @ffmpeg-installer/ffmpeg. */
export function ffmpegPath(): string {
  const p = process.env.FFMPEG_PATH || installerPath('@ffmpeg-installer/ffmpeg');
  if (!p) throw new HcdError('ffmpeg not found: set FFMPEG_PATH or install @ffmpeg-installer/ffmpeg');
  return p;
}

/** The ffprobe binary: FFPROBE_PATH wins, else the one bundled by @ffprobe-installer/ffprobe. */
export function ffprobePath(): string {
  const p = process.env.FFPROBE_PATH || installerPath('@ffprobe-installer/ffprobe');
  if (!p) throw new HcdError('ffprobe not found: set FFPROBE_PATH or install @ffprobe-installer/ffprobe');
  return p;
}

let configured = false;
/** fluent-ffmpeg with the resolved binaries. */
export function fluent(input?: string): ffmpeg.FfmpegCommand {
  if (!configured) {
    ffmpeg.setFfmpegPath(ffmpegPath());
    ffmpeg.setFfprobePath(ffprobePath());
    configured = true;
  }
  return input === undefined ? ffmpeg() : ffmpeg(input);
}

export interface RunResult {
  stdout: Buffer;
  stderr: string;
}

/**
 * Runs a binary to completion and keeps its output. A failure carries the last lines of stderr,
 * which is where ffmpeg says what went wrong.
 */
export function runTool(bin: string, args: string[], opts: { input?: Buffer; signal?: AbortSignal } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'], signal: opts.signal });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.stdin.on('error', () => undefined); // the tool may exit before reading all input
    child.on('close', (code) => {
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) resolve({ stdout: Buffer.concat(out), stderr });
      else {
        const tail = stderr.trim().split('\n').slice(-3).join(' | ');
        reject(new Error(`${bin.split('/').pop()} exited with code ${code}: ${tail}`));
      }
    });
    if (opts.input) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

export function runFfmpeg(args: string[], opts: { input?: Buffer; signal?: AbortSignal } = {}): Promise<RunResult> {
  return runTool(ffmpegPath(), ['-hide_banner', '-nostdin', '-y', ...args], opts);
}

export interface ProbeStream {
  index: number;
  codec_type: string;
  codec_name?: string;
  profile?: string;
  level?: number;
  width?: number;
  height?: number;
  pix_fmt?: string;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  nb_frames?: string;
  nb_read_frames?: string;
  duration?: string;
  color_space?: string;
  color_transfer?: string;
  color_primaries?: string;
  color_range?: string;
}

export interface ProbeResult {
  streams: ProbeStream[];
  format: { duration?: string; size?: string; bit_rate?: string; format_name?: string };
}

/** ffprobe's JSON view of a file. `countFrames` decodes the whole file to count frames exactly. */
export async function probe(file: string, opts: { countFrames?: boolean } = {}): Promise<ProbeResult> {
  const args = ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format'];
  if (opts.countFrames) args.push('-count_frames');
  try {
    const { stdout } = await runTool(ffprobePath(), [...args, file]);
    return JSON.parse(stdout.toString('utf8')) as ProbeResult;
  } catch (e) {
    throw new HcdError(`cannot read ${file} as media: ${(e as Error).message}`);
  }
}
