import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listFiles, makeClip, readMediaPlaylist, runCli, runCliInProcess, segmentOf } from './helpers.js';

interface State {
  chunks: { index: number }[];
  complete: boolean;
}

function readState(dir: string): State | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as State;
  } catch {
    return undefined;
  }
}

describe('interrupted encodes resume to the same bytes', () => {
  let dir: string;
  let input: string;
  let reference: string;
  // 3 s in half-second segments: 6 chunks, slow enough to stop between the first and the last;
  // default HCD (1,8) and the codec loop, so warm starts and the closed loop are covered too
  const args = (out: string) => ['encode', input, '-o', out, '--model', 'bicubic-x2', '--segment', '0.5', '--renditions', '100k', '--source-renditions', '300k', '--codec-aware'];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hcd-resume-'));
    input = await makeClip(join(dir, 'in.mp4'), { seconds: 3, width: 192, height: 108 });
    reference = join(dir, 'reference');
    const r = await runCliInProcess(args(reference));
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Starts an encode and sends `signal` as soon as the first chunk is on record. */
  async function interrupted(out: string, signal: NodeJS.Signals, group = false) {
    let killed: State | undefined;
    const result = await runCli(args(out), {
      group,
      onSpawn: (kill) => {
        const timer = setInterval(() => {
          const s = readState(out);
          if (s && s.chunks.length >= 1) {
            clearInterval(timer);
            killed = s;
            kill(signal);
          }
        }, 5);
      },
    });
    return { result, killed };
  }

  async function expectResumedEqual(out: string) {
    const before = readState(out)!;
    // the run really stopped midway, so resuming has something to do
    expect(before.complete).toBe(false);
    expect(before.chunks.length).toBeGreaterThanOrEqual(1);
    expect(before.chunks.length).toBeLessThan(6);
    // what is there is usable: an EVENT playlist of complete segments (one more than recorded
    // if the kill fell between writing the playlists and the state)
    const partial = readMediaPlaylist(join(out, 'lr-100k', 'index.m3u8'));
    expect(partial.ended).toBe(false);
    expect(partial.segments.length - before.chunks.length).toBeOneOf([0, 1]);
    for (const s of partial.segments) expect(existsSync(join(out, 'lr-100k', s.uri))).toBe(true);
    const kept = before.chunks.map((c) => join(out, 'lr-100k', segmentOf(out, c.index)));
    const stamps = kept.map((f) => statSync(f).mtimeMs);

    const refused = await runCliInProcess(args(out));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/--resume/);

    const r = await runCliInProcess([...args(out), '--resume']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`encoded ${72 - before.chunks.length * 12} of 72 frames`));
    // finished segments were not redone
    expect(kept.map((f) => statSync(f).mtimeMs)).toEqual(stamps);
    const files = listFiles(out);
    expect(files).toEqual(listFiles(reference));
    // two video renditions and their one audio group, six segments each
    expect(files.filter((f) => f.endsWith('.m4s')).length).toBe(3 * 6);
    for (const f of files) {
      if (f === 'job.json') continue; // names its own OUTDIR's input, the same file for both
      expect(readFileSync(join(out, f)).equals(readFileSync(join(reference, f))), f).toBe(true);
    }
    expect(existsSync(join(out, '.work'))).toBe(false);
  }

  it('after SIGKILL', async () => {
    const out = join(dir, 'killed');
    const { result, killed } = await interrupted(out, 'SIGKILL');
    expect(killed, 'the encode finished before it could be killed').toBeDefined();
    expect(result.code).not.toBe(0);
    await expectResumedEqual(out);
  });

  it('after Ctrl-C (to the process group, ffmpeg included), which exits with one line and code 130', async () => {
    const out = join(dir, 'interrupted');
    const { result, killed } = await interrupted(out, 'SIGINT', true);
    expect(killed).toBeDefined();
    expect(result.code).toBe(130);
    expect(result.stderr.trim().split('\n')).toEqual(['hcd: interrupted; finished segments are kept, run again with --resume']);
    // no temporary file survives a clean stop
    expect(listFiles(out).filter((f) => f.includes('.tmp') || f.startsWith('.work'))).toEqual([]);
    await expectResumedEqual(out);
  });
});
