import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseQueueUrl } from '../../src/encoder/queue/url.js';
import { CHUNK_JOB, QUEUE_NAME } from '../../src/encoder/queue/payload.js';
import { listFiles, makeClip, REPO, runCli, runCliInProcess } from '../encoder/helpers.js';
import type { EmbeddedRedis } from '../../src/encoder/queue/embedded.js';
import { startTestRedis } from './redis.js';

const BIN = join(REPO, 'bin', 'hcd.js');

/** sha256 of every file but job.json (which names its own OUTDIR's input: the same file for both). */
function digests(dir: string): Record<string, string> {
  return Object.fromEntries(listFiles(dir).filter((f) => f !== 'job.json').map((f) => [f, createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')]));
}

/** The fields of /proc/PID/stat after the command name: state, ppid, ... */
function statOf(pid: number): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

const childrenOf = (pid: number): number[] => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((p) => Number(statOf(p)?.[1]) === pid);
const alive = (pid: number): boolean => (statOf(pid)?.[0] ?? 'Z') !== 'Z';
const commandOf = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
};

interface Worker {
  proc: ChildProcess;
  log: string;
}

describe('hcd encode --queue with hcd workers on a real Redis', () => {
  let dir: string;
  let input: string;
  let reference: string;
  let redis: EmbeddedRedis;
  let workers: Worker[] = [];
  // 3 s in half-second segments: 6 chunks
  const args = (out: string) => ['encode', input, '-o', out, '--model', 'bicubic-x2', '--hcd-iters', '0,0', '--segment', '0.5', '--renditions', '100k', '--source-renditions', '200k'];

  function startWorker(): Worker {
    const proc = spawn(process.execPath, [BIN, 'worker', '--queue', redis.url, '--stall-ms', '1000'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const w: Worker = { proc, log: '' };
    proc.stderr!.on('data', (b: Buffer) => (w.log += b.toString()));
    workers.push(w);
    return w;
  }

  function state(out: string): { chunks: unknown[]; complete: boolean } | undefined {
    try {
      return JSON.parse(readFileSync(join(out, 'state.json'), 'utf8')) as { chunks: unknown[]; complete: boolean };
    } catch {
      return undefined;
    }
  }

  async function until(what: () => boolean, ms = 60_000): Promise<void> {
    const t0 = Date.now();
    while (!what()) {
      if (Date.now() - t0 > ms) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  function expectSameBytes(out: string): void {
    expect(digests(out)).toEqual(digests(reference));
    expect(existsSync(join(out, '.work'))).toBe(false);
  }

  function expectNoPassword(...texts: string[]): void {
    for (const t of [...texts, ...workers.map((w) => w.log)]) expect(t).not.toContain(redis.password);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hcd-queue-'));
    input = await makeClip(join(dir, 'in.mp4'), { seconds: 3, width: 96, height: 64 });
    reference = join(dir, 'reference');
    const r = await runCliInProcess(args(reference));
    expect(r.code, r.stderr).toBe(0);
    redis = await startTestRedis();
  });
  afterEach(async () => {
    for (const w of workers) if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL');
    workers = [];
  });
  afterAll(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('3 workers, one SIGKILLed mid-chunk: the same bytes as one process', async () => {
    const out = join(dir, 'three');
    const ws = [startWorker(), startWorker(), startWorker()];
    const submit = runCli([...args(out), '--queue', redis.url, '--json']);
    await until(() => ws[0].log.includes(': started'));
    await new Promise((r) => setTimeout(r, 150));
    ws[0].proc.kill('SIGKILL');
    const taken = /chunk job (\S+): started/.exec(ws[0].log)![1];
    const r = await submit;
    expect(r.code, r.stderr).toBe(0);
    expectSameBytes(out);
    // the killed worker's chunk was finished by another
    expect(ws[0].log).not.toContain(`${taken}: done`);
    expect(ws.slice(1).some((w) => w.log.includes(`${taken}: done`))).toBe(true);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.at(-1)!.done).toBe(true);
    expect(lines.at(-1)!.frames).toBe(72);
    expect(lines.length).toBeGreaterThan(1);
    expect(r.stderr).toContain('127.0.0.1');
    expectNoPassword(r.stdout, r.stderr);
  }, 180_000);

  it('--workers 2: two local worker processes give the same bytes as one process, and are gone at the end', async () => {
    const out = join(dir, 'local');
    const queue = new Queue(QUEUE_NAME, { connection: parseQueueUrl(redis.url).connection });
    try {
      let most = 0;
      const submit = runCli([...args(out), '--queue', redis.url, '--workers', '2']);
      const watch = setInterval(() => void queue.getWorkers().then((ws) => (most = Math.max(most, ws.length)), () => undefined), 100);
      const r = await submit.finally(() => clearInterval(watch));
      expect(r.code, r.stderr).toBe(0);
      expectSameBytes(out);
      expect(most).toBe(2);
      expect(await queue.getWorkers()).toHaveLength(0);
      expectNoPassword(r.stdout, r.stderr);
      // each chunk job names its worker and carries the chunk's times, for bench/queue.ts
      const jobs = (await queue.getJobs(['completed'])).filter((j) => (j.data as { outdir: string }).outdir === out);
      expect(jobs).toHaveLength(6);
      for (const j of jobs) {
        expect(j.processedBy).toMatch(/^.+:\d+$/);
        expect((await queue.getJobLogs(j.id!)).logs).toEqual([expect.stringMatching(/^encode_ms=\d+ skip_ms=\d+$/)]);
      }
    } finally {
      await queue.close();
    }
  }, 180_000);

  describe('--workers N without --queue: a private redis-server of the encode\'s own', () => {
    it('gives the same bytes as one process', async () => {
      const out = join(dir, 'embedded');
      const r = await runCli([...args(out), '--workers', '2', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expectSameBytes(out);
      expect((JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { frames: number }).frames).toBe(72);
      expect(r.stderr).toMatch(/queued 6 chunk\(s\) of 6 on redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0/);
    }, 180_000);

    it('SIGKILLed: its redis-server and workers go too; --resume on a new private one finishes the same bytes', async () => {
      const out = join(dir, 'embedded-killed');
      let kill: ((sig: NodeJS.Signals) => void) | undefined;
      let pid = 0;
      const first = runCli([...args(out), '--workers', '2'], { onSpawn: (k, p) => ((kill = k), (pid = p)) });
      await until(() => (state(out)?.chunks.length ?? 0) >= 1);
      const started = childrenOf(pid);
      expect(started.map(commandOf).filter((c) => c.includes('redis-server'))).toHaveLength(1);
      expect(started.map(commandOf).filter((c) => / worker /.test(c))).toHaveLength(2);
      kill!('SIGKILL');
      expect((await first).code).not.toBe(0);
      await until(() => started.every((p) => !alive(p)), 30_000);
      expect(state(out)!.chunks.length).toBeLessThan(6);
      const again = await runCli([...args(out), '--workers', '2', '--resume']);
      expect(again.code, again.stderr).toBe(0);
      expectSameBytes(out);
    }, 180_000);

    it('without a redis-server: one line naming it and how to install it, and nothing written', async () => {
      const out = join(dir, 'no-redis');
      const r = await runCli([...args(out), '--workers', '2'], { env: { REDIS_SERVER: '/nonexistent' } });
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toEqual(['hcd: --workers without --queue runs a private redis-server: REDIS_SERVER=/nonexistent is not an executable file; install it (apt-get install redis-server) or point REDIS_SERVER at it']);
      expect(existsSync(out)).toBe(false);
    }, 60_000);

    it.each(['0', 'abc', '1.5'])('--workers %s is refused', async (n) => {
      const out = join(dir, `workers-${n}`);
      const r = await runCli([...args(out), '--workers', n]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(`hcd: --workers must be a positive integer, got '${n}'`);
      expect(existsSync(out)).toBe(false);
    }, 60_000);
  });

  it('Redis restarted mid-job: the encode goes on once it is back', async () => {
    const out = join(dir, 'restart');
    startWorker();
    startWorker();
    const submit = runCli([...args(out), '--queue', redis.url]);
    await until(() => (state(out)?.chunks.length ?? 0) >= 1);
    await redis.down();
    await new Promise((r) => setTimeout(r, 1000));
    await redis.up();
    const r = await submit;
    expect(r.code, r.stderr).toBe(0);
    expectSameBytes(out);
    expectNoPassword(r.stdout, r.stderr);
  }, 180_000);

  it('a chunk that fails on every attempt fails the encode with one line; --resume finishes it', async () => {
    const out = join(dir, 'poison');
    startWorker();
    const t = statSync(input);
    const submit = runCli([...args(out), '--queue', redis.url, '--attempts', '2']);
    await until(() => (state(out)?.chunks.length ?? 0) >= 1);
    // the input changes under the job: no worker will encode another chunk of it
    utimesSync(input, t.atime, new Date(t.mtimeMs + 5000));
    const r = await submit;
    utimesSync(input, t.atime, t.mtime);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('hcd:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^hcd: chunk \d+ \(frames \d+-\d+\) failed after 2 attempt\(s\): .*the input or the model differs here/);
    const kept = state(out)!.chunks.length;
    expect(kept).toBeGreaterThanOrEqual(1);
    const again = await runCli([...args(out), '--queue', redis.url, '--resume']);
    expect(again.code, again.stderr).toBe(0);
    expectSameBytes(out);
    expectNoPassword(r.stderr, again.stderr);
  }, 180_000);

  it('the submitter SIGKILLed: --resume reattaches and records what the workers did meanwhile', async () => {
    const out = join(dir, 'reattach');
    startWorker();
    let kill: ((sig: NodeJS.Signals) => void) | undefined;
    const first = runCli([...args(out), '--queue', redis.url], { onSpawn: (k) => (kill = k) });
    await until(() => (state(out)?.chunks.length ?? 0) >= 1);
    kill!('SIGKILL');
    expect((await first).code).not.toBe(0);
    const done = state(out)!.chunks.length;
    expect(done).toBeLessThan(6);
    const again = await runCli([...args(out), '--queue', redis.url, '--resume']);
    expect(again.code, again.stderr).toBe(0);
    expectSameBytes(out);
  }, 180_000);

  describe('jobs a worker refuses', () => {
    let queue: Queue;
    beforeAll(() => {
      queue = new Queue(QUEUE_NAME, { connection: parseQueueUrl(redis.url).connection });
    });
    afterAll(async () => {
      await queue.close();
    });

    async function failed(id: string) {
      // The state is read before the job: a job read first could be the still-active one, without its failedReason.
      for (;;) {
        const state = await queue.getJobState(id);
        const job = state === 'failed' ? await queue.getJob(id) : undefined;
        if (job) return job;
        await new Promise((r) => setTimeout(r, 50));
      }
    }

    it('a malformed payload fails at once, without a retry; so does an unknown job type', async () => {
      startWorker();
      await queue.add(CHUNK_JOB, { v: 1, input: '../../etc/passwd', outdir: '/tmp' }, { jobId: 'malformed', attempts: 3 });
      await queue.add('shell', { command: 'touch /tmp/pwned' }, { jobId: 'unknown-type', attempts: 3 });
      const bad = await failed('malformed');
      expect(bad.failedReason).toMatch(/^malformed chunk job \(/);
      expect(bad.attemptsMade).toBe(1);
      const other = await failed('unknown-type');
      expect(other.failedReason).toMatch(/unknown job type 'shell'/);
      expect(existsSync('/tmp/pwned')).toBe(false);
    }, 60_000);

    it('a worker that cannot see OUTDIR refuses the job and writes nothing', async () => {
      startWorker();
      const done = join(dir, 'three');
      const job = JSON.parse(readFileSync(join(done, 'job.json'), 'utf8')) as { model: string };
      const missing = join(dir, 'not-shared', 'out');
      const hex = (n: number) => '0'.repeat(n);
      const config = { input, outdir: missing, model: job.model, segment: 0.5, gop: 0.5, ladder: 'fixed', auto: { rungs: 5, minBitrate: 150_000, maxBitrate: 1_600_000, metric: 'psnr_y', neural: true }, renditions: [100_000], sourceRenditions: [200_000], conventionalRenditions: [], measure: false, codecAware: false, codecLoop: { passes: 2, step: 1, radius: 4, rateSlope: 0 }, hcdIters: [0, 0], ep: 'cpu', preset: 'medium', audioBitrates: [20_000, 64_000], resume: false, force: false };
      await queue.add(CHUNK_JOB, { v: 1, jobId: hex(16), tag: hex(8), input, outdir: missing, chunk: { index: 0, startFrame: 0, frames: 12 }, config, model: { id: job.model, hash: hex(64) } }, { jobId: 'invisible', attempts: 1 });
      const bad = await failed('invisible');
      expect(bad.failedReason).toMatch(/cannot see the job's output folder .*shared filesystem/);
      expect(existsSync(join(dir, 'not-shared'))).toBe(false);
    }, 60_000);
  });
});
