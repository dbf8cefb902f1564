import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClip, readMediaPlaylist, REPO, runCli } from './helpers.js';

const INTERRUPTED = 'hcd: interrupted; finished segments are kept, run again with --resume';

/**
 * A process that runs `job` (a function body given an AbortSignal `signal`) under the CLI's
 * signal handling with `graceMs`, and is sent `signals` once it is running, `gapMs` apart.
 * Resolves with its exit code, stderr, and the milliseconds from the first signal to its end.
 */
function underSignals(job: string, graceMs: number, signals: NodeJS.Signals[], gapMs = 300): Promise<{ code: number | null; stderr: string; ms: number }> {
  const script = [
    `const { withAbort } = await import(${JSON.stringify(join(REPO, 'src/cli/signals.ts'))});`,
    'setInterval(() => {}, 1000);',
    // ready once the handlers are in place
    `await withAbort(async (signal) => { process.stdout.write('ready\\n'); ${job} }, ${graceMs}).catch((e) => { process.stderr.write('hcd: ' + e.message + '\\n'); process.exit(e.exitCode); });`,
  ].join('\n');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let t0 = 0;
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdout.once('data', async () => {
      t0 = Date.now();
      for (const [i, s] of signals.entries()) {
        if (i > 0) await new Promise((r) => setTimeout(r, gapMs));
        child.kill(s);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, ms: Date.now() - t0 }));
  });
}

describe('SIGINT and SIGTERM always end the process within seconds', () => {
  it('a clean-up that never finishes: exit 130 when the grace time is up, with one line', async () => {
    const r = await underSignals('await new Promise(() => {});', 1000, ['SIGTERM']);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toBe(`${INTERRUPTED}\n`);
    expect(r.ms).toBeGreaterThanOrEqual(900);
    expect(r.ms).toBeLessThan(5000);
  });

  it('a second signal exits at once', async () => {
    const r = await underSignals('await new Promise(() => {});', 60_000, ['SIGTERM', 'SIGINT']);
    expect(r.code).toBe(130);
    expect(r.stderr).toBe(`${INTERRUPTED}\n`);
    expect(r.ms).toBeLessThan(5000);
  });

  it('a job that stops cleanly prints its own line once, and is not cut short', async () => {
    const job = "await new Promise((_, reject) => signal.addEventListener('abort', () => setTimeout(() => reject(Object.assign(new Error('stopped cleanly'), { exitCode: 130 })), 200)));";
    const r = await underSignals(job, 5000, ['SIGTERM']);
    expect(r.code).toBe(130);
    expect(r.stderr).toBe('hcd: stopped cleanly\n');
  });
});

describe('SIGTERM during a real encode', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hcd-signals-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ends it within seconds, exit 130, one line, finished segments kept and listed', async () => {
    const input = await makeClip(join(dir, 'in.mp4'), { seconds: 2, width: 160, height: 90 });
    const out = join(dir, 'out');
    let t0 = 0;
    const r = await runCli(['encode', input, '-o', out, '--model', 'bicubic-x2', '--hcd-iters', '0,0', '--segment', '0.5', '--renditions', '100k', '--source-renditions', '300k', '--preset', 'veryslow'], {
      onSpawn: (kill) => {
        const timer = setInterval(() => {
          try {
            if (JSON.parse(readFileSync(join(out, 'state.json'), 'utf8')).chunks.length < 1) return;
          } catch {
            return;
          }
          clearInterval(timer);
          t0 = Date.now();
          kill('SIGTERM');
        }, 5);
      },
    });
    expect(t0, 'the encode finished before it could be stopped').toBeGreaterThan(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(r.code).toBe(130);
    expect(r.stderr.trim().split('\n')).toEqual([INTERRUPTED]);
    const state = JSON.parse(readFileSync(join(out, 'state.json'), 'utf8')) as { chunks: { index: number }[]; complete: boolean };
    expect(state.complete).toBe(false);
    for (const name of ['lr-100k', 'src-300k']) {
      const listed = readMediaPlaylist(join(out, name, 'index.m3u8')).segments.map((s) => s.uri);
      expect(readdirSync(join(out, name)).filter((f) => f.endsWith('.m4s')).sort()).toEqual(listed);
      expect(listed.length).toBeGreaterThanOrEqual(state.chunks.length);
    }
  });
});
