import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { ffmpegPath } from './ffmpeg.js';

/**
 * An ffmpeg process fed raw frames on stdin, with back-pressure: write() waits while the
 * encoder is behind, so memory stays flat however long the video is.
 */
export class FfmpegSink {
  private readonly child: ChildProcess;
  private readonly err: Buffer[] = [];
  private readonly exited: Promise<number | null>;
  private broken: Error | undefined;

  constructor(args: string[], signal?: AbortSignal) {
    this.child = spawn(ffmpegPath(), ['-hide_banner', '-nostdin', '-y', ...args], { stdio: ['pipe', 'ignore', 'pipe'], signal });
    this.child.stderr?.on('data', (b: Buffer) => {
      this.err.push(b);
      if (this.err.length > 64) this.err.shift();
    });
    this.child.stdin?.on('error', (e: Error) => {
      this.broken = e;
    });
    this.exited = new Promise((resolve) => {
      this.child.on('error', (e) => {
        this.broken = e;
        resolve(null);
      });
      this.child.on('close', (code) => resolve(code));
    });
  }

  private failure(code: number | null): Error {
    const tail = Buffer.concat(this.err).toString('utf8').trim().split('\n').slice(-3).join(' | ');
    return new Error(`ffmpeg exited with code ${code}${tail ? `: ${tail}` : ''}`);
  }

  async write(data: Uint8Array): Promise<void> {
    const stdin = this.child.stdin;
    if (!stdin || this.broken) throw this.failure(this.child.exitCode);
    if (!stdin.write(data)) {
      // either the encoder catches up, or it died and will never drain
      await Promise.race([once(stdin, 'drain'), this.exited]);
      if (this.child.exitCode !== null) throw this.failure(this.child.exitCode);
    }
  }

  /** Closes stdin and waits for a clean exit. */
  async end(): Promise<void> {
    this.child.stdin?.end();
    const code = await this.exited;
    if (code !== 0) throw this.failure(code);
  }

  /** Kills the encoder and waits until it is gone, so that it writes nothing afterwards. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}
