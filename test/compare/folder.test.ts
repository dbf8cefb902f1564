import { createHash } from 'node:crypto';
import { appendFileSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePipelines, resolveEncodeFolder } from '../../src/compare/folder.js';
import type { CompareReport } from '../../src/compare/run.js';
import { HcdError } from '../../src/shared/errors.js';
import { makeClip, runCliInProcess } from '../encoder/helpers.js';

/**
 * `hcd compare OUTDIR` on a real `hcd encode` output: a 2 s clip encoded for its first second
 * with the built-in bicubic pair (fast), compared at two CRFs.
 */
let dir: string;
let clip: string;
let enc: string;
let report: CompareReport;
let stdout: string;
let before: Map<string, string>;
const encodeArgs = (input: string, out: string, ...extra: string[]) => ['encode', input, '-o', out, '--model', 'bicubic-x2', '--segment', '1', '--seconds', '1', '--renditions', '100k', '--source-renditions', '300k', '--hcd-iters', '0,0', ...extra];

/** Every file below `root` with its hash, except those under `skip`. */
function snapshot(root: string, skip?: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (skip && p === skip) continue;
      if (e.isDirectory()) walk(p);
      else out.set(relative(root, p), createHash('sha1').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(root);
  return out;
}

/** A copy of the finished encode (report excluded) to break in one way. */
function copyOfEncode(name: string): string {
  const to = join(dir, name);
  cpSync(enc, to, { recursive: true, filter: (src) => !src.startsWith(join(enc, 'compare')) });
  return to;
}

function editJob(folder: string, edit: (job: { input: { path: string; size: number } }) => void): void {
  const file = join(folder, 'job.json');
  const job = JSON.parse(readFileSync(file, 'utf8')) as { input: { path: string; size: number } };
  edit(job);
  writeFileSync(file, JSON.stringify(job));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hcd-compare-folder-'));
  clip = await makeClip(join(dir, 'clip.mp4'), { seconds: 2, width: 160, height: 96 });
  enc = join(dir, 'enc');
  const e = await runCliInProcess(encodeArgs(clip, enc));
  expect(e.code, e.stderr).toBe(0);
  before = snapshot(enc);
  const r = await runCliInProcess(['compare', enc, '--crf', '24,36', '--threads', '1', '--json']);
  expect(r.code, r.stderr).toBe(0);
  stdout = r.stdout;
  report = JSON.parse(readFileSync(join(enc, 'compare', 'report.json'), 'utf8')) as CompareReport;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hcd compare on an hcd encode output folder', () => {
  it('writes the report into OUTDIR/compare/, with no work folder left', () => {
    expect(readdirSync(join(enc, 'compare')).sort()).toEqual(['crops', 'rd.svg', 'report.csv', 'report.html', 'report.json', 'streams']);
    expect(JSON.parse(stdout)).toEqual(report);
    for (const id of ['source', 'A', 'B34', 'B', 'B4', 'C']) expect(statSync(join(enc, 'compare', 'crops', `${id}.png`)).size).toBeGreaterThan(100);
    for (const p of report.points) expect(existsSync(join(enc, 'compare', p.file))).toBe(true);
  });

  it('measures the encode\'s input, --seconds and pair', () => {
    expect(report.input.path).toBe(clip);
    // the encode took 1 s of the 2 s clip at 24 fps
    expect(report.input.frames).toBe(24);
    expect([report.input.width, report.input.height]).toEqual([160, 96]);
    // the conventional ladder and C: the encode used the pair's plain downscaler, so C is the pipeline it shipped
    expect(report.pipelines.map((p) => p.id)).toEqual(['A', 'B34', 'B', 'B4', 'C']);
    expect(report.bd.hull_anchor).toEqual(['A', 'B34', 'B', 'B4']);
    expect(report.pipelines.find((p) => p.id === 'C')!.label).toContain('bicubic-x2');
    expect(report.pipelines.find((p) => p.id === 'C')!).toMatchObject({ lr_width: 80, lr_height: 48 });
    expect(Object.keys(report.bd_rate_vs_hull).sort()).toEqual(['A', 'B', 'B34', 'B4', 'C']);
    for (const v of Object.values(report.bd_rate_vs_hull)) expect(Number.isFinite(v)).toBe(true);
    // the conventional pipelines cannot beat their own envelope
    expect(report.bd_rate_vs_hull.A!).toBeGreaterThanOrEqual(-1e-6);
    expect(report.bd_rate_vs_hull.B!).toBeGreaterThanOrEqual(-1e-6);
  });

  it('changes nothing else in OUTDIR, which stays resumable', async () => {
    expect(snapshot(enc, join(enc, 'compare'))).toEqual(before);
    const r = await runCliInProcess(encodeArgs(clip, enc, '--resume'));
    expect(r.code, r.stderr).toBe(0);
    // the encoder claims the folder as its job still and leaves the report alone
    expect(readdirSync(join(enc, 'compare'))).toContain('report.json');
    const again = await runCliInProcess(encodeArgs(clip, enc));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds this job .*complete.*--resume/);
  });

  it('flags override the job, and -o puts the report elsewhere', async () => {
    const other = join(dir, 'other');
    const stamp = statSync(join(enc, 'compare', 'report.json')).mtimeMs;
    const r = await runCliInProcess(['compare', enc, '-o', other, '--seconds', '0.5', '--pipelines', 'A,B', '--crf', '24,36', '--threads', '1']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(readFileSync(join(other, 'report.json'), 'utf8')) as CompareReport;
    expect(json.input.frames).toBe(12);
    expect(json.pipelines.map((p) => p.id)).toEqual(['A', 'B']);
    expect(statSync(join(enc, 'compare', 'report.json')).mtimeMs).toBe(stamp);
  });

  it('a video still needs -o: one line, nothing written', async () => {
    const r = await runCliInProcess(['compare', clip, '--crf', '24,36']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/-o DIR is required when INPUT is a video/);
  });
});

describe('resolveEncodeFolder', () => {
  it('reads input, seconds, pair and scale from the job', () => {
    const f = resolveEncodeFolder(enc);
    expect(f).toMatchObject({ input: clip, seconds: 1, model: 'bicubic-x2', scale: 2, codecAware: false, reportDir: join(enc, 'compare') });
    expect(f.hcdIters).toBeUndefined();
    expect(encodePipelines(f)).toEqual(['A', 'B34', 'B', 'B4', 'C']);
    expect(encodePipelines({ ...f, hcdIters: [2, 2] })).toEqual(['A', 'B34', 'B', 'B4', 'D']);
  });

  it('refuses a folder that is not an encode output', () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    expect(() => resolveEncodeFolder(empty)).toThrow(/not an hcd encode output \(no job.json\)/);
    const foreign = join(dir, 'foreign');
    mkdirSync(foreign);
    copyFileSync(join(enc, 'master.m3u8'), join(foreign, 'master.m3u8'));
    expect(() => resolveEncodeFolder(foreign)).toThrow(/master.m3u8 but no job.json/);
    const garbled = copyOfEncode('garbled');
    writeFileSync(join(garbled, 'job.json'), '{"version": 7}');
    expect(() => resolveEncodeFolder(garbled)).toThrow(/not a job file that hcd encode wrote/);
  });

  it('refuses an encode that has not finished', () => {
    const half = copyOfEncode('half');
    const state = JSON.parse(readFileSync(join(half, 'state.json'), 'utf8')) as { complete: boolean };
    writeFileSync(join(half, 'state.json'), JSON.stringify({ ...state, complete: false }));
    expect(() => resolveEncodeFolder(half)).toThrow(/not finished \(1 segment done\).*--resume/);
    const noMaster = copyOfEncode('no-master');
    rmSync(join(noMaster, 'master.m3u8'));
    expect(() => resolveEncodeFolder(noMaster)).toThrow(/not finished/);
    const noUpscaler = copyOfEncode('no-upscaler');
    rmSync(join(noUpscaler, 'upscaler'), { recursive: true });
    expect(() => resolveEncodeFolder(noUpscaler)).toThrow(/upscaler\/manifest.json is missing/);
  });

  it('refuses an input that is gone or has changed since the encode', async () => {
    const moved = copyOfEncode('moved');
    editJob(moved, (j) => (j.input.path = join(dir, 'gone.mp4')));
    expect(() => resolveEncodeFolder(moved)).toThrow(HcdError);
    expect(() => resolveEncodeFolder(moved)).toThrow(/input recorded in .*job.json no longer exists: .*gone.mp4/);

    // a real encode of a file that is then changed in place
    const second = join(dir, 'second.mp4');
    copyFileSync(clip, second);
    const enc2 = join(dir, 'enc2');
    expect((await runCliInProcess(encodeArgs(second, enc2))).code).toBe(0);
    expect(resolveEncodeFolder(enc2).input).toBe(second);
    appendFileSync(second, Buffer.alloc(16));
    expect(() => resolveEncodeFolder(enc2)).toThrow(/second.mp4 has changed since .* was encoded/);
    const r = await runCliInProcess(['compare', enc2, '--crf', '24,36']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(enc2, 'compare'))).toBe(false);
  });
});
