import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClip, oneLineFailure, readMediaPlaylist, runCliInProcess, segmentOf } from './helpers.js';

/**
 * An encode that fills its disk: a small tmpfs, mostly taken by a filler file. It must stop with
 * one line and keep what it finished, consistently; once the filler is gone, --resume must give
 * exactly the files of an uninterrupted encode.
 */
const RENDITIONS = ['lr-100k', 'src-300k', 'audio-20k'];
const PAGE = 4096;

function sha256Tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const p = join(e.parentPath, e.name);
    out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
  }
  return out;
}

/** Bytes the files under `dir` take on tmpfs, which allocates whole pages. */
function pagesUnder(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) if (e.isFile()) n += Math.ceil(statSync(join(e.parentPath, e.name)).size / PAGE) * PAGE;
  return n;
}

interface State {
  chunks: { index: number; bytes: Record<string, number> }[];
  complete: boolean;
}

let dir: string;
let mnt: string;
let mounted = false;
let refusal = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hcd-diskfull-'));
  mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt], { encoding: 'utf8' });
  mounted = r.status === 0;
  refusal = (r.stderr || r.error?.message || `exit ${r.status}`).trim();
});

afterAll(() => {
  if (mounted) spawnSync('umount', [mnt]);
  rmSync(dir, { recursive: true, force: true });
});

describe('a disk that fills up mid-encode', () => {
  let input: string;
  let ref: string;
  const args = (out: string) => ['encode', input, '-o', out, '--model', 'bicubic-x2', '--hcd-iters', '0,0', '--segment', '0.5', '--renditions', '100k', '--source-renditions', '300k', '--preset', 'ultrafast'];

  beforeAll(async () => {
    if (!mounted) return;
    input = await makeClip(join(dir, 'in.mp4'), { seconds: 2, width: 160, height: 90 });
    ref = join(dir, 'ref');
    const whole = await runCliInProcess(args(ref));
    expect(whole.code, whole.stderr).toBe(0);
  });

  // the disk runs out at different steps: in x264's work file, in the mux, in a playlist or state.json
  it.for([0.35, 0.5, 0.65, 0.8])('with room for %s of the output: one line, finished segments kept and listed; --resume then gives the uninterrupted files', async (share, ctx) => {
    if (!mounted) ctx.skip(`cannot mount a tmpfs here (${refusal}); the disk-full test needs root`);
    const out = join(mnt, 'out');
    const filler = join(mnt, 'filler');
    for (const p of [out, filler]) rmSync(p, { recursive: true, force: true });
    const free = Math.floor((pagesUnder(ref) * share) / PAGE) * PAGE;
    const fs = statfsSync(mnt);
    writeFileSync(filler, Buffer.alloc(fs.bavail * fs.bsize - free));
    const r = await runCliInProcess(args(out));

    const state = JSON.parse(readFileSync(join(out, 'state.json'), 'utf8')) as State;
    expect(state.complete).toBe(false);
    expect(state.chunks.length).toBeLessThan(4);
    const recorded = state.chunks.map((c) => segmentOf(out, c.index)).sort();
    for (const name of RENDITIONS) {
      const folder = join(out, name);
      const onDisk = existsSync(folder) ? readdirSync(folder).filter((f) => f.endsWith('.m4s')).sort() : [];
      expect(onDisk, name).toEqual(recorded);
      if (recorded.length) expect(readMediaPlaylist(join(folder, 'index.m3u8')).segments.map((s) => s.uri), name).toEqual(recorded);
      for (const c of state.chunks) {
        const seg = segmentOf(out, c.index);
        // whole, not cut short where the disk ran out
        expect(readFileSync(join(folder, seg)).equals(readFileSync(join(ref, name, seg))), `${name}/${seg}`).toBe(true);
        expect(c.bytes[name]).toBe(statSync(join(ref, name, seg)).size);
      }
    }
    expect(existsSync(join(out, '.work'))).toBe(false);
    expect(Object.keys(sha256Tree(out)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(oneLineFailure(r)).toBe(`hcd: no space left on the device of ${out}; finished segments are kept: free some space and run again with --resume`);

    rmSync(filler);
    const resumed = await runCliInProcess([...args(out), '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(sha256Tree(out)).toEqual(sha256Tree(ref));
  });
});
