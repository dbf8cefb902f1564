/**
 * A redis-server of this process's own: what `hcd encode --workers N` without `--queue` puts its
 * chunk jobs on, so that a many-core machine needs no Redis set up (the tests and the queue
 * benchmark start theirs the same way). Loopback only, on a free port, with a random password,
 * its files in a temp folder; stopped by `stop()`, and also when this process dies without
 * stopping it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { HcdError } from '../../shared/errors.js';

/** How long redis-server may take to accept connections. */
const START_MS = 15_000;
/** Tries of a free port that another process took before redis-server bound it. */
const PORT_TRIES = 5;

const isExecutable = (p: string): boolean => {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

/** $REDIS_SERVER, else `redis-server` on the PATH (Debian's is /usr/bin/redis-server). */
export function findRedisServer(): string {
  const given = process.env.REDIS_SERVER;
  const install = 'install it (apt-get install redis-server)';
  if (given) {
    if (isExecutable(given)) return given;
    throw new HcdError(`REDIS_SERVER=${given} is not an executable file; ${install} or point REDIS_SERVER at it`);
  }
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin'];
  const found = dirs.map((d) => join(d, 'redis-server')).find(isExecutable);
  if (found) return found;
  throw new HcdError(`no redis-server on the PATH; ${install} or set REDIS_SERVER to its path`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Sends `child` SIGTERM once this process has ended, however it ends (SIGKILL included), and then
 * removes `folder`, if given, once the child is gone: a shell of its own session reads a pipe from
 * this process and acts at the pipe's end. It holds nothing up, and goes when the child exits.
 */
export function endsWithThisProcess(child: ChildProcess, folder?: string): void {
  if (child.pid === undefined) return;
  const script = 'read _; kill -TERM "$0" 2>/dev/null; [ -n "$1" ] || exit 0; i=0; while kill -0 "$0" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; rm -rf "$1"';
  const dog = spawn('/bin/sh', ['-c', script, String(child.pid), folder ?? ''], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  dog.on('error', () => undefined);
  dog.stdin!.on('error', () => undefined);
  dog.unref();
  (dog.stdin as unknown as { unref?: () => void }).unref?.();
  const release = () => dog.kill('SIGKILL');
  if (child.exitCode !== null || child.signalCode !== null) release();
  else child.once('exit', release);
}

export interface EmbeddedRedisOptions {
  /**
   * Keep the queue across a restart of the server (append-only file, fsync on every write), as a
   * production Redis for the queue must. Off: nothing is written to disk.
   */
  persist?: boolean;
  /** Default: a random one. */
  password?: string;
}

export class EmbeddedRedis {
  private proc?: ChildProcess;
  private constructor(
    private readonly bin: string,
    readonly dir: string,
    readonly password: string,
    private readonly persist: boolean,
    private portNumber = 0,
  ) {}

  /** Starts a server; throws HcdError, having made nothing, when there is no redis-server. */
  static async start(o: EmbeddedRedisOptions = {}): Promise<EmbeddedRedis> {
    const bin = findRedisServer();
    const r = new EmbeddedRedis(bin, mkdtempSync(join(tmpdir(), 'hcd-redis-')), o.password ?? randomBytes(18).toString('base64url'), !!o.persist);
    try {
      for (let i = 1; ; i++) {
        r.portNumber = await freePort();
        try {
          await r.up();
          return r;
        } catch (e) {
          // the port was free a moment ago; another process may have taken it since
          if (i >= PORT_TRIES || !/already in use/i.test((e as Error).message)) throw e;
        }
      }
    } catch (e) {
      await r.stop();
      throw e;
    }
  }

  get port(): number {
    return this.portNumber;
  }

  get url(): string {
    return `redis://:${this.password}@127.0.0.1:${this.port}/0`;
  }

  /** Starts the server (again, on the same port and folder), resolving once it accepts connections. */
  up(): Promise<void> {
    const persistence = this.persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--requirepass', this.password, '--save', '', ...persistence, '--daemonize', 'no'];
    // its own session: a Ctrl-C at the terminal reaches the encode, which stops the workers first and then this
    const p = spawn(this.bin, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.proc = p;
    endsWithThisProcess(p, this.dir);
    return new Promise((resolve, reject) => {
      let log = '';
      const fail = (why: string) => {
        clearTimeout(timer);
        reject(new HcdError(`redis-server (${this.bin}) ${why}${log ? `: ${log.trim().split('\n').slice(-3).join(' | ').slice(-400)}` : ''}`));
      };
      const timer = setTimeout(() => {
        p.kill('SIGKILL');
        fail(`did not accept connections within ${START_MS / 1000} s`);
      }, START_MS);
      const onData = (b: Buffer) => {
        log += b.toString();
        if (log.includes('Ready to accept connections')) {
          clearTimeout(timer);
          p.stdout!.off('data', onData);
          p.stdout!.resume();
          resolve();
        }
      };
      p.stdout!.on('data', onData);
      p.stderr!.on('data', (b: Buffer) => (log += b.toString()));
      p.on('exit', (code, sig) => fail(`exited (${sig ?? code})`));
      p.on('error', (e) => fail(`could not start (${e.message})`));
    });
  }

  /** Stops the server (SIGTERM: it writes its append-only file, if any, and exits). */
  async down(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((resolve) => p.once('exit', resolve));
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), START_MS);
    await exited;
    clearTimeout(timer);
  }

  /** Stops the server and removes its folder. */
  async stop(): Promise<void> {
    await this.down();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs `fn` with the URL of a private Redis (no persistence), stopped when `fn` ends, however it ends. */
export async function withEmbeddedRedis<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const redis = await EmbeddedRedis.start();
  try {
    return await fn(redis.url);
  } finally {
    await redis.stop();
  }
}
