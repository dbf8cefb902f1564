import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { probe, runFfmpeg } from '../../src/encoder/media/ffmpeg.js';
import { jobTag, segmentName } from '../../src/encoder/job/names.js';
import { HcdError } from '../../src/shared/errors.js';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(REPO, 'bin', 'hcd.js');

/**
 * A small clip with detail, motion and a tone that lasts the whole clip. Made here rather than
 * with samples/make-sample.ts so that the audio is exactly as long as the video.
 */
export async function makeClip(out: string, o: { seconds: number; width: number; height: number; fps?: number; audio?: boolean }): Promise<string> {
  const fps = o.fps ?? 24;
  const args = ['-f', 'lavfi', '-i', `testsrc2=s=${o.width}x${o.height}:r=${fps}`];
  if (o.audio !== false) args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000`);
  args.push('-t', String(o.seconds), '-c:v', 'libx264', '-crf', '10', '-pix_fmt', 'yuv420p', '-threads', '1');
  args.push('-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-color_range', 'tv');
  if (o.audio !== false) args.push('-c:a', 'aac', '-b:a', '64k');
  args.push(out);
  await runFfmpeg(args);
  return out;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `hcd` as a process. With `group`, it leads its own process group and signals go to the
 * whole group, ffmpeg children included, as a terminal's Ctrl-C does. `env` is added to this
 * process's environment.
 */
export function runCli(args: string[], opts: { onSpawn?: (kill: (sig: NodeJS.Signals) => void, pid: number) => void; group?: boolean; env?: Record<string, string> } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: !!opts.group, env: { ...process.env, ...opts.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    opts.onSpawn?.((sig) => (opts.group && child.pid ? process.kill(-child.pid, sig) : child.kill(sig)), child.pid ?? 0);
  });
}

export function psnr(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`size mismatch ${a.length} vs ${b.length}`);
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255) / (se / a.length));
}

/** BT.709 luma of packed RGB, rounded to 8 bits: 4:2:0 chroma alone costs small colourful test patterns ~10 dB of RGB PSNR. */
export function luma(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgb.length / 3);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(0.2126 * rgb[3 * i] + 0.7152 * rgb[3 * i + 1] + 0.0722 * rgb[3 * i + 2]);
  return out;
}

export interface MediaPlaylist {
  segments: { uri: string; duration: number }[];
  ended: boolean;
  type?: string;
  /** The EXT-X-MAP init segment. */
  map?: string;
}

export function readMediaPlaylist(path: string): MediaPlaylist {
  const lines = readFileSync(path, 'utf8').split('\n');
  const segments: { uri: string; duration: number }[] = [];
  let type: string | undefined;
  let map: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith('#EXTINF:')) segments.push({ duration: Number(lines[i].slice(8).split(',')[0]), uri: lines[++i] });
    if (lines[i].startsWith('#EXT-X-PLAYLIST-TYPE:')) type = lines[i].split(':')[1];
    if (lines[i].startsWith('#EXT-X-MAP:')) map = /URI="([^"]*)"/.exec(lines[i])?.[1];
  }
  return { segments, ended: lines.includes('#EXT-X-ENDLIST'), type, map };
}

/** The name of chunk `index`'s segments in an encode output (they carry the job's tag). */
export function segmentOf(out: string, index: number): string {
  return segmentName(jobTag(JSON.parse(readFileSync(join(out, 'job.json'), 'utf8'))), index);
}

/**
 * A rendition's init segment followed by some of its media segments (all of them by default),
 * written to `file`: one fragmented MP4 that ffprobe and ffmpeg read on their own, timestamps
 * running on from segment to segment.
 */
export function joinSegments(folder: string, file: string, uris?: string[]): string {
  const playlist = readMediaPlaylist(join(folder, 'index.m3u8'));
  const parts = [playlist.map!, ...(uris ?? playlist.segments.map((s) => s.uri))];
  writeFileSync(file, Buffer.concat(parts.map((u) => readFileSync(join(folder, u)))));
  return file;
}

/** ffprobe's width/height/profile/level and exact frame count of one segment. */
export async function probeSegment(path: string) {
  const info = await probe(path, { countFrames: true });
  const v = info.streams.find((s) => s.codec_type === 'video');
  const a = info.streams.find((s) => s.codec_type === 'audio');
  return { video: v, audio: a, frames: Number(v?.nb_read_frames ?? 0) };
}

/**
 * The CLI's own entry point, run in this process with stdout/stderr captured: the same parsing,
 * error printing and exit code as `hcd`, without a second or two of process start per call.
 */
export async function runCliInProcess(args: string[]): Promise<CliResult> {
  const { main } = await import('../../src/cli/main.js');
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += chunk.toString()), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += chunk.toString()), true)) as typeof process.stderr.write;
  const before = process.exitCode;
  process.exitCode = 0;
  try {
    await main(['node', 'hcd', ...args]);
    return { code: Number(process.exitCode ?? 0), stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    process.exitCode = before;
  }
}

/**
 * runCli, killed with SIGKILL (which no handler can delay) if it has not ended after `limitMs`;
 * `killed` says whether it had to be: a guard against a hang, not a time bound.
 */
export async function runCliWithin(args: string[], limitMs: number): Promise<CliResult & { killed: boolean }> {
  let timer: NodeJS.Timeout | undefined;
  let killed = false;
  const r = await runCli(args, {
    onSpawn: (kill) =>
      (timer = setTimeout(() => {
        killed = true;
        kill('SIGKILL');
      }, limitMs)),
  });
  clearTimeout(timer);
  return { ...r, killed };
}

/** `fn` over `items`, at most `width` at a time, results in order: the machine has two cores. */
export async function mapLimited<T, R>(items: readonly T[], width: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i], i);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return out;
}

/** Exactly one line on stderr, `hcd: ` first, and a failing exit code. */
export function oneLineFailure(r: CliResult): string {
  const lines = r.stderr.trim().split('\n');
  if (r.code === 0 || lines.length !== 1 || !lines[0].startsWith('hcd: ')) {
    throw new Error(`expected a one-line failure, got exit ${r.code} and stderr:\n${r.stderr}`);
  }
  return lines[0];
}

/** What `f` gives, or its HcdError, which must be one line; any other exception fails the test. */
export function outcome<T>(f: () => T): { value: T } | { error: HcdError } {
  try {
    return { value: f() };
  } catch (e) {
    if (!(e instanceof HcdError)) throw e;
    expect(e.message).not.toMatch(/[\r\n]/);
    expect(e.message.length).toBeGreaterThan(0);
    return { error: e };
  }
}

/** Every file under `dir`, as paths relative to it, sorted. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(relative(dir, join(d, e.name)));
    }
  };
  walk(dir);
  return out.sort();
}
