import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REDIS = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

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
 * A redis-server of the test's own: loopback only, on a free port, its files in a temp folder,
 * with a password (so tests can check that it is never printed) and an append-only file (so a
 * restart keeps the queue, as a production Redis for the queue must).
 */
export class TestRedis {
  private proc?: ChildProcess;
  readonly dir = mkdtempSync(join(tmpdir(), 'hcd-redis-'));
  readonly password = 'pw-s3cret-hunter2';

  private constructor(readonly port: number) {}

  static async start(): Promise<TestRedis> {
    const r = new TestRedis(await freePort());
    await r.up();
    return r;
  }

  get url(): string {
    return `redis://:${this.password}@127.0.0.1:${this.port}/0`;
  }

  /** Starts the server (again), resolving once it accepts connections. */
  up(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--requirepass', this.password, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--daemonize', 'no'];
    const p = spawn(REDIS, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = p;
    return new Promise((resolve, reject) => {
      let log = '';
      p.stdout!.on('data', (b: Buffer) => {
        log += b.toString();
        if (log.includes('Ready to accept connections')) resolve();
      });
      p.on('exit', (code) => reject(new Error(`redis-server exited (${code}): ${log.slice(-500)}`)));
      p.on('error', reject);
    });
  }

  /** Stops the server (SIGTERM: it writes its append-only file and exits). */
  async down(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((resolve) => p.once('exit', resolve));
    p.kill('SIGTERM');
    await exited;
  }

  async stop(): Promise<void> {
    await this.down();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
