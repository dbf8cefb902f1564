import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffprobePath, ffmpegPath, probe, runFfmpeg } from '../../src/encoder/media/ffmpeg.js';
import { readFrames } from '../../src/encoder/media/decode.js';
import { readImage } from '../../src/encoder/media/png.js';
import { probeSource } from '../../src/encoder/media/probe.js';
import { loadImages } from '../../src/train/data.js';
import { HcdError } from '../../src/shared/errors.js';
import { makeClip, runCli, runCliInProcess } from './helpers.js';

/** A PNG that declares `side`x`side` RGB and holds a few compressed bytes: tiny on disk, huge once decoded. */
function bombPng(side: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const magic = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([magic, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(4))), chunk('IEND', Buffer.alloc(0))]);
}

/** The rejection of `p`, which must be a one-line HcdError. */
async function oneLineError(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(HcdError);
  const message = (e as Error).message;
  expect(message.split('\n')).toHaveLength(1);
  return message;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hcd-hostile-'));
  writeFileSync(join(dir, 'bomb20k.png'), bombPng(20_000));
  writeFileSync(join(dir, 'bomb100k.png'), bombPng(100_000));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('images over the pixel limit are refused before decoding', () => {
  it('hcd image on a 20000x20000 PNG of 69 bytes: one line, non-zero exit, nothing written, in seconds', async () => {
    const out = join(dir, 'o-bomb');
    const t0 = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const r = await runCli(['image', join(dir, 'bomb20k.png'), '-o', out, '--model', 'bicubic-x2'], {
      // without a limit the decoder takes minutes and gigabytes: stop it and fail
      onSpawn: (kill) => (timer = setTimeout(() => kill('SIGKILL'), 30_000)),
    });
    clearTimeout(timer);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^hcd: .*bomb20k\.png is 20000x20000 \(400 Mpx\), over the 64 Mpx limit; raise it with --max-pixels$/);
    expect(existsSync(out)).toBe(false);
  });

  it('readImage: a 100000x100000 header gives the limit, not a raw Node message', async () => {
    const msg = await oneLineError(readImage(join(dir, 'bomb100k.png')));
    expect(msg).toMatch(/bomb100k\.png is 100000x100000 \(10000 Mpx\), over the 64 Mpx limit/);
  });

  it('readImage: a 20000x20000 header is refused in well under a second', async () => {
    const t0 = Date.now();
    const msg = await oneLineError(readImage(join(dir, 'bomb20k.png')));
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(msg).toMatch(/20000x20000 \(400 Mpx\), over the 64 Mpx limit/);
  });

  it('readImage takes the limit as an option, for PNG (header) and other formats (ffprobe)', async () => {
    const png = join(dir, 'small.png');
    const jpg = join(dir, 'small.jpg');
    await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=48x32:rate=1', '-frames:v', '1', png]);
    await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=48x32:rate=1', '-frames:v', '1', jpg]);
    expect((await readImage(png, { maxPixels: 48 * 32 })).width).toBe(48);
    expect(await oneLineError(readImage(png, { maxPixels: 1000 }))).toMatch(/small\.png is 48x32 \(1536 px\), over the 1000 px limit/);
    expect(await oneLineError(readImage(jpg, { maxPixels: 1000 }))).toMatch(/small\.jpg is 48x32 \(1536 px\), over the 1000 px limit/);
  });

  it('--max-pixels on hcd image and hcd eval', async () => {
    const png = join(dir, 'small.png');
    const out = join(dir, 'o-small');
    for (const args of [
      ['image', png, '-o', out, '--model', 'bicubic-x2', '--max-pixels', '1000'],
      ['eval', png, '--model', 'bicubic-x2', '--max-pixels', '1000'],
    ]) {
      const r = await runCliInProcess(args);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(/^hcd: .*small\.png is 48x32 \(1536 px\), over the 1000 px limit; raise it with --max-pixels\n$/);
    }
    expect(existsSync(out)).toBe(false);
  });

  it("hcd train's data loader applies the same check", async () => {
    const data = join(dir, 'data');
    mkdirSync(data);
    await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=48x32:rate=1', '-frames:v', '1', join(data, 'a.png')]);
    writeFileSync(join(data, 'b.png'), bombPng(20_000));
    expect(await oneLineError(loadImages([join(data, 'a.png')], 16, 1000))).toMatch(/a\.png is 48x32 \(1536 px\), over the 1000 px limit/);
    const msg = await oneLineError(loadImages([data], 16));
    expect(msg).toMatch(/b\.png is 20000x20000 \(400 Mpx\), over the 64 Mpx limit/);
  });
});

describe('media paths and tools', () => {
  let clip: string;
  beforeAll(async () => {
    clip = await makeClip(join(dir, 'clip.mp4'), { seconds: 1, width: 64, height: 48, audio: false });
  });

  it('a file named -dash.mp4 is read as a file, not an option', async () => {
    const here = process.cwd();
    const sub = join(dir, 'dash');
    mkdirSync(sub);
    copyFileSync(clip, join(sub, '-dash.mp4'));
    process.chdir(sub);
    try {
      const info = await probe('-dash.mp4');
      expect(info.streams[0].width).toBe(64);
      const src = await probeSource('-dash.mp4');
      expect([src.width, src.height]).toEqual([64, 48]);
      let n = 0;
      for await (const f of readFrames('-dash.mp4', { width: 64, height: 48 })) n += f.length > 0 ? 1 : 0;
      expect(n).toBe(24);
      const r = await runCliInProcess(['encode', '-o', 'out', '--model', 'bicubic-x2', '--segment', '1', '--renditions', '100k', '--source-renditions', '', '--', '-dash.mp4']);
      expect(r.code, r.stderr).toBe(0);
      expect(readdirSync('out')).toContain('master.m3u8');
    } finally {
      process.chdir(here);
    }
  });

  it('an ffprobe that cannot be executed is named, with the fix, not taken for a bad input', async () => {
    const copy = join(dir, 'ffprobe-copy');
    copyFileSync(ffprobePath(), copy);
    chmodSync(copy, 0o644); // no x bit at all: even root cannot exec it
    const before = process.env.FFPROBE_PATH;
    process.env.FFPROBE_PATH = copy;
    try {
      const msg = await oneLineError(probeSource(clip));
      expect(msg).toBe(`cannot run ffprobe at ${copy}: permission denied (EACCES); make it executable (chmod +x) or set FFPROBE_PATH`);
      const r = await runCliInProcess(['encode', clip, '-o', join(dir, 'o-probe'), '--model', 'bicubic-x2']);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`hcd: cannot run ffprobe at ${copy}: permission denied (EACCES); make it executable (chmod +x) or set FFPROBE_PATH\n`);
      process.env.FFPROBE_PATH = join(dir, 'no-such-ffprobe');
      expect(await oneLineError(probe(clip))).toMatch(/^cannot run ffprobe at .*no-such-ffprobe: no such file \(ENOENT\); /);
    } finally {
      if (before === undefined) delete process.env.FFPROBE_PATH;
      else process.env.FFPROBE_PATH = before;
    }
  });

  it('an ffmpeg that cannot be executed is named too, before any work', async () => {
    const copy = join(dir, 'ffmpeg-copy');
    copyFileSync(ffmpegPath(), copy);
    chmodSync(copy, 0o644);
    const before = process.env.FFMPEG_PATH;
    process.env.FFMPEG_PATH = copy;
    try {
      expect(await oneLineError(runFfmpeg(['-version']))).toBe(`cannot run ffmpeg at ${copy}: permission denied (EACCES); make it executable (chmod +x) or set FFMPEG_PATH`);
      const out = join(dir, 'o-ffmpeg');
      const r = await runCliInProcess(['encode', clip, '-o', out, '--model', 'bicubic-x2']);
      expect(r.stderr).toBe(`hcd: cannot run ffmpeg at ${copy}: permission denied (EACCES); make it executable (chmod +x) or set FFMPEG_PATH\n`);
      expect(existsSync(out)).toBe(false);
    } finally {
      if (before === undefined) delete process.env.FFMPEG_PATH;
      else process.env.FFMPEG_PATH = before;
    }
  });
});
