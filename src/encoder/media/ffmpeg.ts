/**
 * The one way this project runs ffmpeg, in three shapes:
 *  - runFfmpeg (runFfprobe, runTool): to completion, stdout as bytes and stderr collected;
 *  - FfmpegSink and ffmpegWithFrames: raw frames written to stdin, with back-pressure;
 *  - ffmpegFrames: fixed-size raw frames read from stdout, as an async iterator, and optionally
 *    ffmpeg's last progress report (frames out, repeated, dropped) once they end.
 * All three start the process the same way (below): the binary is checked first (a ToolError that
 * says how to fix it), and a failure names the exit code or signal and ends with the last lines
 * of stderr, which is where ffmpeg says what went wrong.
 *
 * ffprobe goes through fluent-ffmpeg (./ffprobe.ts); these pipes do not (docs/architecture.md):
 * its run() keeps stdout as text lines, feeds stdin only by piping a stream it does not let us
 * wait on, and gives the exit status only inside a message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { basename } from 'node:path';
import { setPriority } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { cannotRun, fileArg, toolBinary, type Binary } from './tools.js';

export { ffmpegPath, ffprobePath, fileArg, ToolError } from './tools.js';
export { probe } from './ffprobe.js';

/** Before every ffmpeg command: no banner, never read the terminal, overwrite outputs. */
const FFMPEG_PREFIX = ['-hide_banner', '-nostdin', '-y'];
/** stderr kept per process: a long encode can print a warning per frame. */
const STDERR_KEEP = 1 << 20;
/** Progress text kept: a few reports, the last of them whole. */
const PROGRESS_KEEP = 1 << 12;
/** The descriptor ffmpeg writes its progress reports to, apart from the errors on stderr. */
const PROGRESS_FD = 3;

type StdioPipe = 'pipe' | 'ignore';

interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** A spawn failure or an abort (AbortError). */
  error?: Error;
}

const ok = (s: ExitStatus): boolean => s.code === 0 && !s.error;
const isSpawnFailure = (e: Error): boolean => !!(e as NodeJS.ErrnoException).syscall?.startsWith('spawn');

/** A started process: its pipes, the end of its stderr, and how it ended. */
class Process {
  readonly child: ChildProcess;
  readonly exit: Promise<ExitStatus>;
  private status: ExitStatus | undefined;
  private err: Buffer[] = [];
  private errBytes = 0;
  private progressText = '';

  constructor(
    private readonly bin: Binary,
    args: string[],
    io: { stdin: boolean; stdout: boolean; progress?: boolean },
    signal?: AbortSignal,
    priority?: number,
  ) {
    const stdio: StdioPipe[] = [io.stdin ? 'pipe' : 'ignore', io.stdout ? 'pipe' : 'ignore', 'pipe', ...(io.progress ? ['pipe' as const] : [])];
    try {
      this.child = spawn(bin.path, args, { stdio, signal });
    } catch (e) {
      throw cannotRun(bin, e as NodeJS.ErrnoException);
    }
    if (priority !== undefined && this.child.pid !== undefined) lowerPriority(this.child.pid, priority);
    this.child.stderr?.on('data', (b: Buffer) => this.keep(b));
    (this.child.stdio[PROGRESS_FD] as Readable | undefined)?.on('data', (b: Buffer) => {
      this.progressText = (this.progressText + b.toString('utf8')).slice(-PROGRESS_KEEP);
    });
    // a closed pipe shows as the exit status, which says why
    this.child.stdin?.on('error', () => undefined);
    this.exit = new Promise((resolve) => {
      let error: Error | undefined;
      const done = (code: number | null, sig: NodeJS.Signals | null): void => {
        if (!this.status) resolve((this.status = { code, signal: sig, error }));
      };
      this.child.on('error', (e) => {
        error ??= e;
        // a process that never started may not report 'close'
        if (this.child.pid === undefined) done(null, null);
      });
      this.child.on('close', done);
    });
  }

  get exited(): boolean {
    return this.status !== undefined || this.child.exitCode !== null || this.child.signalCode !== null;
  }

  private keep(b: Buffer): void {
    this.err.push(b);
    this.errBytes += b.length;
    while (this.errBytes > STDERR_KEEP && this.err.length > 1) this.errBytes -= this.err.shift()!.length;
  }

  stderr(): string {
    return Buffer.concat(this.err).toString('utf8');
  }

  /** The last progress report's key=value pairs (later lines win, so a cut-off first report is overwritten). */
  progress(): Record<string, string> {
    const report: Record<string, string> = {};
    for (const line of this.progressText.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) report[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
    }
    return report;
  }

  failure(s: ExitStatus): Error {
    if (s.error) return isSpawnFailure(s.error) ? cannotRun(this.bin, s.error) : s.error;
    const how = s.signal ? `was killed by ${s.signal}` : `exited with code ${s.code}`;
    const lines = this.stderr().trim().split('\n');
    const tail = lines.slice(-3);
    // a full disk is reported once, before the encoder's closing statistics push it out of the tail
    const full = lines.find((l) => /no space left on device|disk quota exceeded/i.test(l));
    if (full && !tail.includes(full)) tail.unshift(full);
    const text = tail.join(' | ');
    return new Error(`${this.bin.name} ${how}${text ? `: ${text}` : ''}`);
  }

  /** Resolves when ffmpeg has finished, or rejects with why it failed. */
  async success(): Promise<void> {
    const s = await this.exit;
    if (!ok(s)) throw this.failure(s);
  }

  /** Kills the process and waits until it is gone, so that it writes nothing afterwards. */
  async kill(): Promise<void> {
    if (!this.exited) this.child.kill('SIGKILL');
    await this.exit;
  }
}

export interface RunResult {
  stdout: Buffer;
  stderr: string;
}

export interface RunOptions {
  /** Written to stdin, which is then closed. */
  input?: Buffer;
  signal?: AbortSignal;
  /** A niceness (1-19) for work that should yield the cores to other work of the same job. */
  priority?: number;
}

/** Lowers a started process's priority; a process that has already exited, or a system that refuses, keeps its own. */
function lowerPriority(pid: number, niceness: number): void {
  try {
    setPriority(pid, niceness);
  } catch {
    // the work still runs, only without yielding
  }
}

async function run(bin: Binary, args: string[], opts: RunOptions): Promise<RunResult> {
  const p = new Process(bin, args, { stdin: true, stdout: true }, opts.signal, opts.priority);
  const out: Buffer[] = [];
  p.child.stdout!.on('data', (b: Buffer) => out.push(b));
  if (opts.input) p.child.stdin!.end(opts.input);
  else p.child.stdin!.end();
  await p.success();
  return { stdout: Buffer.concat(out), stderr: p.stderr() };
}

/** Runs ffmpeg to completion and keeps its output. */
export async function runFfmpeg(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run(toolBinary('ffmpeg'), [...FFMPEG_PREFIX, ...args], opts);
}

/** Runs ffprobe to completion, for what probe() does not parse (packet lists, CSV). */
export async function runFfprobe(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run(toolBinary('ffprobe'), args, opts);
}

/** Runs any binary to completion the same way. */
export async function runTool(bin: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run({ name: basename(bin), path: bin }, args, opts);
}

/** Input args for packed RGB24 frames on stdin, or in `file`. */
export function rawRgbInput(width: number, height: number, fps: string, file?: string): string[] {
  return ['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-framerate', fps, '-i', file ? fileArg(file) : 'pipe:0'];
}

/** Resolves on 'drain', or when the pipe is gone and never will drain. */
function drained(stdin: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stdin.off('drain', done);
      stdin.off('close', done);
      resolve();
    };
    stdin.on('drain', done);
    stdin.on('close', done);
  });
}

/**
 * An ffmpeg process fed raw frames on stdin, with back-pressure: write() waits while the
 * encoder is behind, so memory stays flat however long the video is.
 */
export class FfmpegSink {
  private readonly p: Process;

  constructor(args: string[], signal?: AbortSignal, priority?: number) {
    this.p = new Process(toolBinary('ffmpeg'), [...FFMPEG_PREFIX, ...args], { stdin: true, stdout: false }, signal, priority);
  }

  /** Hands ffmpeg one frame; false once it takes no more input (it has exited or closed stdin). */
  async offer(data: Uint8Array): Promise<boolean> {
    const stdin = this.p.child.stdin!;
    if (this.p.exited || stdin.destroyed) return false;
    // either the encoder catches up, or it died and will never drain
    if (!stdin.write(data)) await Promise.race([drained(stdin), this.p.exit]);
    return !(this.p.exited || stdin.destroyed);
  }

  /** Hands ffmpeg one frame; throws ffmpeg's failure if it takes no more input. */
  async write(data: Uint8Array): Promise<void> {
    if (!(await this.offer(data))) throw this.p.failure(await this.p.exit);
  }

  /** Closes stdin and waits for a clean exit. Resolves with stderr. */
  async end(): Promise<string> {
    this.p.child.stdin!.end();
    await this.p.success();
    return this.p.stderr();
  }

  /** Kills the encoder and waits until it is gone, so that it writes nothing afterwards. */
  kill(): Promise<void> {
    return this.p.kill();
  }
}

/**
 * Runs ffmpeg with `frames` on stdin (raw video, whatever the args declare). A command that stops
 * reading early (a filter that ends first) is not an error; its exit status decides. Resolves
 * with stderr.
 */
export async function ffmpegWithFrames(args: string[], frames: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, priority?: number): Promise<string> {
  const sink = new FfmpegSink(args, undefined, priority);
  try {
    for await (const f of frames) if (!(await sink.offer(f))) break;
  } catch (e) {
    await sink.kill();
    throw e;
  }
  return sink.end();
}

/** Pipe chunks (64 KB) joined once per frame: joining on every chunk would copy a 1080p frame ~100 times over. */
async function* fixedSize(stream: AsyncIterable<Buffer>, size: number): AsyncGenerator<Uint8Array> {
  let parts: Buffer[] = [];
  let have = 0;
  for await (const chunk of stream) {
    parts.push(chunk);
    have += chunk.length;
    if (have < size) continue;
    let pending = Buffer.concat(parts, have);
    while (pending.length >= size) {
      yield new Uint8Array(pending.buffer.slice(pending.byteOffset, pending.byteOffset + size));
      pending = pending.subarray(size);
    }
    parts = pending.length ? [pending] : [];
    have = pending.length;
  }
}

export interface FramesOptions {
  signal?: AbortSignal;
  /** Return ffmpeg's last progress report (`-progress`: frame, dup_frames, drop_frames, ...). */
  progress?: boolean;
}

/**
 * Runs ffmpeg writing raw frames of `frameBytes` to stdout and yields them one by one. The pipe
 * is read only as fast as the caller takes frames, so ffmpeg waits rather than memory filling.
 * Stopping early kills ffmpeg; a failure is thrown after the last whole frame. Returns the last
 * progress report when asked for one, else an empty record.
 */
export async function* ffmpegFrames(args: string[], frameBytes: number, opts: FramesOptions = {}): AsyncGenerator<Uint8Array, Record<string, string>> {
  const report = opts.progress ? ['-progress', `pipe:${PROGRESS_FD}`] : [];
  const p = new Process(toolBinary('ffmpeg'), [...FFMPEG_PREFIX, ...report, ...args], { stdin: false, stdout: true, progress: opts.progress }, opts.signal);
  let finished = false;
  try {
    yield* fixedSize(p.child.stdout as AsyncIterable<Buffer>, frameBytes);
    finished = true;
  } finally {
    if (!finished) await p.kill();
  }
  await p.success();
  return p.progress();
}
