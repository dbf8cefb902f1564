import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFixture, type Fixture } from './fixture.js';

let fx: Fixture;
beforeAll(() => {
  fx = makeFixture();
});
afterAll(() => fx?.cleanup());

interface Proc {
  url: Promise<string>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  kill(sig: NodeJS.Signals): void;
}

function hcd(args: string[]): Proc {
  const child = spawn(process.execPath, ['bin/hcd.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let gotUrl: (u: string) => void = () => {};
  const url = new Promise<string>((resolve) => (gotUrl = resolve));
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    const m = /at (http:\/\/\S+)/.exec(stdout);
    if (m) gotUrl(m[1]);
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { url, exit, kill: (sig) => child.kill(sig) };
}

describe('hcd serve', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('prints the URL, serves, and exits 0 on %s', async (sig) => {
    const p = hcd(['serve', fx.root, '--port', '0']);
    const url = await Promise.race([p.url, p.exit.then((e) => Promise.reject(new Error(`exited early: ${e.stderr}`)))]);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(Number(new URL(url).port)).toBeGreaterThan(0);

    const list = await (await fetch(`${url}api/outputs`)).json();
    expect(list.map((o: { name: string }) => o.name)).toEqual(['out1', 'out2']);
    const seg = await fetch(`${url}media/out1/lr/seg0.ts`);
    expect(Buffer.from(await seg.arrayBuffer()).equals(fx.segment)).toBe(true);

    p.kill(sig);
    const e = await p.exit;
    expect(e.signal).toBeNull();
    expect(e.code).toBe(0);
    expect(e.stdout).toContain('serving out1, out2 at');
    expect(e.stderr).toContain(`${sig}, finishing open requests`);
    await expect(fetch(`${url}api/outputs`)).rejects.toThrow();
  });

  it('refuses bad input with one line and a non-zero exit', async () => {
    const empty = path.join(fx.base, 'empty');
    mkdirSync(empty);
    const cases: [string[], RegExp][] = [
      [['serve', path.join(fx.base, 'missing')], /^hcd: serve: .*missing does not exist\n$/],
      [['serve', empty, '--port', '0'], /^hcd: serve: no master\.m3u8 in .*empty or in its subfolders\n$/],
      [['serve', fx.root, '--port', '70000'], /^hcd: serve: --port must be an integer from 0 to 65535, got 70000\n$/],
    ];
    const results = await Promise.all(cases.map(([args]) => hcd(args).exit));
    results.forEach((e, i) => {
      expect(e.code, cases[i][0].join(' ')).toBe(1);
      expect(e.stderr).toMatch(cases[i][1]);
    });
  });

  it('says so when the port is taken', async () => {
    const first = hcd(['serve', fx.root, '--port', '0']);
    const url = await first.url;
    const second = await hcd(['serve', fx.root, '--port', new URL(url).port]).exit;
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/^hcd: serve: port \d+ is already in use on 127\.0\.0\.1\n$/);
    first.kill('SIGTERM');
    expect((await first.exit).code).toBe(0);
  });
});
