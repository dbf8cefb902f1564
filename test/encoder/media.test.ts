import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RGB_TO_MEASURED, RGB_TO_YUV709, YUV709_TO_RGB, yuvToRgb } from '../../src/encoder/media/colour.js';
import { ffmpegFrames, ffmpegWithFrames, FfmpegSink, runFfmpeg } from '../../src/encoder/media/ffmpeg.js';
import { tempPath, writeAtomic, writeFileAtomic, writeFilesAtomic } from '../../src/encoder/media/files.js';
import { x264Args } from '../../src/encoder/media/x264.js';
import { BT709 } from '../../src/shared/yuv.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hcd-media-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('colour', () => {
  it('the BT.709 table: KG = 1 - KR - KB is exactly the literal 0.7152', () => {
    expect([BT709.KR, BT709.KG, BT709.KB]).toEqual([0.2126, 0.7152, 0.0722]);
    expect(Object.is(BT709.KG, 0.7152)).toBe(true);
  });

  it('the ffmpeg filters are the exact strings renditions were made with', () => {
    // x264's output bytes depend on these: a change here changes every rendition
    expect(RGB_TO_YUV709).toBe('scale=out_color_matrix=bt709:out_range=tv:flags=bicubic+accurate_rnd+full_chroma_int,format=yuv420p');
    expect(YUV709_TO_RGB).toBe('scale=flags=bicubic+accurate_rnd+full_chroma_int:in_color_matrix=bt709:in_range=tv,format=rgb24');
    expect(yuvToRgb({ width: 64, height: 48, matrix: 'bt601', range: 'pc' })).toBe(
      'scale=64:48:flags=bicubic+accurate_rnd+full_chroma_int:in_color_matrix=bt601:in_range=pc,format=rgb24',
    );
    expect(RGB_TO_MEASURED).toBe('scale=flags=accurate_rnd:out_color_matrix=bt709:out_range=tv,format=yuv444p');
    const args = x264Args({ width: 64, height: 48, fpsNum: 24, fpsDen: 1, rate: { bitrate: 1e5 }, gop: 24, preset: 'medium', place: { start: 0, fragmentIndex: 1 }, out: '/o/0.mp4' });
    expect(args.slice(0, 12)).toEqual(['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', '64x48', '-framerate', '24/1', '-i', 'pipe:0', '-vf', RGB_TO_YUV709]);
    expect(args.at(-1)).toBe('file:/o/0.mp4');
  });
});

describe('atomic files', () => {
  it('temporary names are hidden, beside the target, unique and end in .tmp', () => {
    const a = tempPath('/x/y/index.m3u8');
    expect(dirname(a)).toBe('/x/y');
    expect(basename(a)).toMatch(/^\.index\.m3u8\.\d+-[0-9a-f]{8}\.tmp$/);
    expect(tempPath('/x/y/index.m3u8')).not.toBe(a);
    expect(tempPath('/x/s.mp4', '.mp4')).toMatch(/\.tmp\.mp4$/);
  });

  it('the sync and async forms write whole files and leave nothing behind', async () => {
    writeAtomic(join(dir, 'a.txt'), 'sync');
    await writeFileAtomic(join(dir, 'b.txt'), Buffer.from('async'));
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('sync');
    expect(readFileSync(join(dir, 'b.txt'), 'utf8')).toBe('async');
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('a group appears together or not at all', async () => {
    const sub = join(dir, 'group');
    mkdirSync(sub);
    writeFileSync(join(sub, 'one'), 'old');
    await expect(writeFilesAtomic([[join(sub, 'zero'), 'z'], [join(sub, 'one'), 'new']])).resolves.toBeUndefined();
    expect(readFileSync(join(sub, 'one'), 'utf8')).toBe('new');
    // one file cannot be written: the other is not replaced, and no temporary file is left
    await expect(writeFilesAtomic([[join(sub, 'one'), 'newer'], [join(sub, 'missing', 'x'), 'x']])).rejects.toThrow(/ENOENT/);
    expect(readFileSync(join(sub, 'one'), 'utf8')).toBe('new');
    expect(readdirSync(sub).sort()).toEqual(['one', 'zero']);
  });
});

describe('the ffmpeg helper', () => {
  const testsrc = (frames: number) => ['-f', 'lavfi', '-i', `testsrc2=size=32x16:rate=10`, '-frames:v', String(frames), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];

  it('run to completion: a failure names the exit code and ends with the stderr tail', async () => {
    await expect(runFfmpeg(['-v', 'error', '-i', join(dir, 'nope.mp4'), '-f', 'null', '-'])).rejects.toThrow(/^ffmpeg exited with code 1: .*nope\.mp4: No such file or directory/);
  });

  it('frames out: whole frames, and stopping early stops ffmpeg', async () => {
    const frames: Uint8Array[] = [];
    for await (const f of ffmpegFrames(testsrc(5), 32 * 16 * 3)) frames.push(f);
    expect(frames.map((f) => f.length)).toEqual(Array(5).fill(32 * 16 * 3));
    const t0 = Date.now();
    // an endless source: only the early stop ends it
    const endless = ffmpegFrames(['-f', 'lavfi', '-i', 'testsrc2=size=32x16:rate=10', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], 32 * 16 * 3);
    for await (const f of endless) if (f.length) break;
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('frames in: a sink that fails says why, a command that stops reading early is fine', async () => {
    const frame = new Uint8Array(32 * 16 * 3);
    const sink = new FfmpegSink(['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', '32x16', '-i', 'pipe:0', '-c:v', 'no-such-codec', '-f', 'null', '-']);
    const fail = (async () => {
      for (let i = 0; i < 1000; i++) await sink.write(frame);
      await sink.end();
    })();
    await expect(fail).rejects.toThrow(/^ffmpeg exited with code 1: Unknown encoder 'no-such-codec'/);
    const many = Array.from({ length: 200 }, () => frame);
    const out = join(dir, 'two.rgb');
    await ffmpegWithFrames(['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', '32x16', '-i', 'pipe:0', '-frames:v', '2', '-f', 'rawvideo', out], many);
    expect(readFileSync(out).length).toBe(2 * frame.length);
  });
});
