import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFfmpeg } from '../../src/encoder/media/ffmpeg.js';
import { makeClip, mapLimited, oneLineFailure, runCliInProcess, runCliWithin } from './helpers.js';

let dir: string;
let clip: string;
let png: string;
let data: string;
const fast = ['--model', 'bicubic-x2', '--hcd-iters', '0,0'];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hcd-outputs-'));
  clip = await makeClip(join(dir, 'clip.mp4'), { seconds: 1, width: 96, height: 64, audio: false });
  png = join(dir, 'in.png');
  await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=96x64:rate=1', '-frames:v', '1', png]);
  data = join(dir, 'data');
  mkdirSync(data);
  for (const i of [0, 1]) await runFfmpeg(['-f', 'lavfi', '-i', `testsrc2=size=64x64:rate=1`, '-vf', `rotate=${i}`, '-frames:v', '1', join(data, `${i}.png`)]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every command that creates an output folder, writing into `out`. */
function commands(out: string): Record<string, string[]> {
  return {
    encode: ['encode', clip, '-o', out, ...fast, '--renditions', '100k', '--source-renditions', ''],
    image: ['image', png, '-o', out, ...fast],
    compare: ['compare', clip, '-o', out, '--pipelines', 'A,B', '--crf', '30,40', '--hull-crf', 'none'],
    train: ['train', '--scale', '2', '--data', data, '-o', out, '--steps', '1', '--checkpoint', join(dir, 'ckpt', 'c.json')],
    demo: ['demo', clip, '-o', out, ...fast, '--no-serve'],
    sample: ['sample', '-o', join(out, 'sample.mp4'), '--seconds', '1'],
  };
}

/** `args` with --json, for the commands that have it: their progress and results go to stdout. */
function withJson(args: string[]): string[] {
  return args[0] === 'sample' ? args : [...args, '--json'];
}

describe('output folders on pseudo-filesystems', () => {
  it.runIf(process.platform === 'linux')('-o /proc/hcd-test: every command exits non-zero with one line, before any work', async () => {
    const runs = Object.entries(commands('/proc/hcd-test'));
    // the kill only guards against a hang (a wait on a folder that never appears); it is not a time bound
    const results = await mapLimited(runs, 2, ([, args]) => runCliWithin(withJson(args), 60_000));
    results.forEach((r, i) => {
      const name = runs[i][0];
      expect(r.killed, `${name} had to be killed`).toBe(false);
      expect(r.stdout, `${name} reported progress or a result before failing`).toBe('');
      expect(oneLineFailure(r), name).toMatch(/^hcd: output folder \/proc\/hcd-test\b.* is on \/proc, a proc pseudo-filesystem that cannot hold files; choose another folder$/);
    }, 200_000);
  });

  it.runIf(process.platform === 'linux')('sysfs too, and a path below an existing /proc entry', async () => {
    for (const out of ['/sys/hcd-test', '/proc/self/hcd-test/deeper']) {
      const r = await runCliInProcess(commands(out).image);
      expect(oneLineFailure(r)).toMatch(/pseudo-filesystem that cannot hold files/);
    }
  });
});

describe('an output that is a file', () => {
  it('-o FILE: each command says so in one line, before any work', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'precious');
    for (const [name, args] of Object.entries(commands(file))) {
      const r = await runCliInProcess(withJson(args));
      expect(oneLineFailure(r), name).toBe(`hcd: output folder ${file} is a file, not a folder`);
      // work (decoding, HCD, encoding, loading the data, building the player) reports progress
      // lines or a result under --json; none came
      expect(r.stdout, name).toBe('');
    }
    expect(existsSync(join(dir, 'ckpt'))).toBe(false);
  });

  it('-o FILE/sub: the file in the way is named', async () => {
    const file = join(dir, 'b-file');
    writeFileSync(file, 'precious');
    for (const args of [commands(join(file, 'sub')).encode, commands(join(file, 'sub')).image]) {
      const r = await runCliInProcess(args);
      expect(oneLineFailure(r)).toMatch(new RegExp(`^hcd: output folder ${file}/\\S+ cannot be made: ${file} is a file, not a folder$`));
    }
  });

  it('a nested output folder that does not exist yet is made, one level at a time', async () => {
    const out = join(dir, 'x', 'y', 'z');
    const r = await runCliInProcess(commands(out).image);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['lr.png', 'lr_base.png', 'sr.png', 'sr_base.png']);
  });
});
