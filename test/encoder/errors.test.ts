import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFfmpeg } from '../../src/encoder/media/ffmpeg.js';
import { resolvePair } from '../../src/encoder/pairs/index.js';
import { encodeVideo } from '../../src/encoder/job/encode.js';
import { HcdError } from '../../src/shared/errors.js';
import { makeClip, readMediaPlaylist, runCli, runCliInProcess, segmentOf } from './helpers.js';

/** Exactly one line, prefixed, and a failing exit code. */
function expectOneLineError(r: { code: number | null; stderr: string }, pattern: RegExp) {
  expect(r.code).not.toBe(0);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^hcd: /);
  expect(lines[0]).toMatch(pattern);
}

describe('hcd encode refuses bad input with one clear line', () => {
  let dir: string;
  let clip: string;
  const encode = (input: string, out: string, ...extra: string[]) =>
    runCliInProcess(['encode', input, '-o', out, '--model', 'bicubic-x2', '--segment', '1', '--renditions', '100k', '--source-renditions', '', ...extra]);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hcd-errors-'));
    clip = await makeClip(join(dir, 'clip.mp4'), { seconds: 2, width: 64, height: 48 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing file (as a real process: one line, exit code 1)', async () => {
    const out = join(dir, 'o-missing');
    const r = await runCli(['encode', join(dir, 'nope.mp4'), '-o', out, '--model', 'bicubic-x2']);
    expectOneLineError(r, /input not found/);
    expect(r.code).toBe(1);
    expect(existsSync(out)).toBe(false);
  });

  it('a file that is not a video', async () => {
    const txt = join(dir, 'notes.mp4');
    writeFileSync(txt, 'these are not the frames you are looking for\n'.repeat(50));
    const out = join(dir, 'o-text');
    expectOneLineError(await encode(txt, out), /not a video file/);
    expect(existsSync(out)).toBe(false);
  });

  it('a file with audio but no video stream', async () => {
    const audio = join(dir, 'tone.m4a');
    await runFfmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=1', '-c:a', 'aac', audio]);
    const out = join(dir, 'o-audio');
    expectOneLineError(await encode(audio, out), /no video stream/);
    expect(existsSync(out)).toBe(false);
  });

  it('a file truncated mid-stream', async () => {
    // moov first, so the truncated file still opens and promises every frame
    const whole = join(dir, 'faststart.mp4');
    await runFfmpeg(['-i', clip, '-c', 'copy', '-movflags', '+faststart', whole]);
    const bytes = readFileSync(whole);
    const cut = join(dir, 'cut.mp4');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.8)));
    const out = join(dir, 'o-cut');
    const r = await encode(cut, out);
    expectOneLineError(r, /corrupt or truncated/);
    // the intact first segment is kept and listed; nothing claims the encode is finished
    const state = JSON.parse(readFileSync(join(out, 'state.json'), 'utf8'));
    expect(state.complete).toBe(false);
    expect(state.chunks.map((c: { index: number }) => c.index)).toEqual([0]);
    const playlist = readMediaPlaylist(join(out, 'lr-100k', 'index.m3u8'));
    expect(readdirSync(join(out, 'lr-100k')).sort()).toEqual(['iframes.m3u8', 'index.m3u8', playlist.map, segmentOf(out, 0)].sort());
    expect(playlist.ended).toBe(false);
    expect(playlist.segments.map((x) => x.uri)).toEqual([segmentOf(out, 0)]);
  });

  it('a frame too small for the model', async () => {
    const tiny = await makeClip(join(dir, 'tiny.mp4'), { seconds: 1, width: 12, height: 12, audio: false });
    const out = join(dir, 'o-tiny');
    // x4 crops 12x12 to 8x8: a 2x2 LR frame, under bicubic-x4's minimum of 4
    expectOneLineError(await runCliInProcess(['encode', tiny, '-o', out, '--model', 'bicubic-x4']), /too small .* at least 4/);
    expect(existsSync(out)).toBe(false);
  });

  it('a model whose downscaler does not scale by what its manifest says', async () => {
    const pair = await resolvePair('bicubic-x2');
    const liar = { ...pair, manifest: { ...pair.manifest, id: 'liar-x4', scale: 4 } };
    const out = join(dir, 'o-liar');
    const run = encodeVideo(
      { input: clip, outdir: out, model: 'liar-x4', segment: 1, renditions: [100_000], sourceRenditions: [], codecAware: false, hcdIters: [0, 0], resume: false, force: false },
      {},
      { pair: liar },
    );
    await expect(run).rejects.toThrow(HcdError);
    await expect(run).rejects.toThrow(/mismatched scale/);
    expect(existsSync(out)).toBe(false);
  });

  it('an unknown model', async () => {
    const out = join(dir, 'o-model');
    expectOneLineError(await runCliInProcess(['encode', clip, '-o', out, '--model', 'no-such-model']), /unknown pair 'no-such-model'/);
    expect(existsSync(out)).toBe(false);
  });

  it('an output folder that cannot be made', async () => {
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    expectOneLineError(await encode(clip, join(file, 'out')), /cannot be made: .*plain-file is a file, not a folder/);
  });

  it('an output folder holding a different job, unless --force', async () => {
    const out = join(dir, 'o-job');
    expect((await encode(clip, out)).code).toBe(0);
    const other = await runCliInProcess(['encode', clip, '-o', out, '--model', 'bicubic-x2', '--segment', '1', '--renditions', '200k', '--source-renditions', '']);
    expectOneLineError(other, /holds a different job/);
    // refused means untouched
    expect(readdirSync(out).sort()).toEqual(['audio-20k', 'job.json', 'lr-100k', 'master.m3u8', 'state.json', 'upscaler']);
    // a compare report of the old encode (hcd compare OUTDIR) goes with it: it would describe a gone encode
    mkdirSync(join(out, 'compare'));
    writeFileSync(join(out, 'compare', 'report.json'), '{}');
    const forced = await runCliInProcess(['encode', clip, '-o', out, '--model', 'bicubic-x2', '--segment', '1', '--renditions', '200k', '--source-renditions', '', '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['audio-20k', 'job.json', 'lr-200k', 'master.m3u8', 'state.json', 'upscaler']);
  });

  it('a non-empty folder that is not an encode', async () => {
    const out = join(dir, 'o-foreign');
    mkdirSync(out);
    writeFileSync(join(out, 'thesis.tex'), 'precious');
    expectOneLineError(await encode(clip, out), /not empty and holds no hcd job/);
    expect(readdirSync(out)).toEqual(['thesis.tex']);
  });

  it('an execution provider that is missing falls back to CPU with a warning', async () => {
    const out = join(dir, 'o-ep');
    const r = await encode(clip, out, '--ep', 'cuda');
    expect(r.code, r.stderr).toBe(0);
    // a CUDA build of onnxruntime-node would run it instead, with no warning
    if (!r.stderr.includes('using CPU')) expect(r.stderr).not.toMatch(/warning: execution provider/);
    else expect(r.stderr).toMatch(/warning: execution provider 'cuda' .*using CPU/);
    expect(existsSync(join(out, 'master.m3u8'))).toBe(true);
  });

  it('bad option values', async () => {
    const out = join(dir, 'o-opts');
    expectOneLineError(await runCliInProcess(['encode', clip, '-o', out, '--renditions', '150q']), /bad bitrate '150q'/);
    expectOneLineError(await runCliInProcess(['encode', clip, '-o', out, '--ep', 'tpu']), /bad --ep/);
    expectOneLineError(await runCliInProcess(['encode', clip, '-o', out, '--preset', 'warp']), /bad --preset/);
    expectOneLineError(await runCliInProcess(['encode', clip, '-o', out, '--segment', 'long']), /--segment must be a positive number, got 'long'/);
    expectOneLineError(await runCliInProcess(['encode', clip, '-o', out, '--segment', '6', '--gop', '4']), /the segment \(6 s\) must be a whole number of GOPs \(4 s\)/);
    expectOneLineError(await runCliInProcess(['encode', clip, '-o', out, '--audio-bitrates', '20k']), /--audio-bitrates wants two bitrates as LOW,NORMAL/);
    expectOneLineError(await runCliInProcess(['encode', clip, '-o', out, '--audio-bitrates', '96k,64k']), /the low group \(96000\) is above the normal one/);
    expect(existsSync(out)).toBe(false);
  });
});
