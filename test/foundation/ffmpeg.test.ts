import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffmpegPath, ffprobePath, probe, runFfmpeg } from '../../src/encoder/media/ffmpeg.js';
import { readFrames } from '../../src/encoder/media/decode.js';
import { makeSample } from '../../samples/make-sample.js';

function psnr(a: Uint8Array, b: Uint8Array): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  return 10 * Math.log10((255 * 255) / (se / a.length));
}

describe('bundled ffmpeg', () => {
  let dir: string;
  let sample: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hcd-ffmpeg-'));
    sample = await makeSample(join(dir, 'sample.mp4'), { seconds: 2 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('resolves ffmpeg and ffprobe binaries with the codecs we need', async () => {
    expect(statSync(ffmpegPath()).isFile()).toBe(true);
    expect(statSync(ffprobePath()).isFile()).toBe(true);
    const { stdout } = await runFfmpeg(['-encoders']);
    const enc = stdout.toString();
    expect(enc).toMatch(/libx264/);
    const muxers = (await runFfmpeg(['-muxers'])).stdout.toString();
    expect(muxers).toMatch(/\bhls\b/);
  });

  it('makes a deterministic sample with video and audio', async () => {
    const info = await probe(sample, { countFrames: true });
    const v = info.streams.find((s) => s.codec_type === 'video');
    expect(v?.codec_name).toBe('h264');
    expect([v?.width, v?.height]).toEqual([640, 360]);
    expect(Number(v?.nb_read_frames)).toBe(48);
    expect(v?.color_space).toBe('bt709');
    const audio = info.streams.find((s) => s.codec_type === 'audio');
    // the tone lasts as long as the picture (muxing must not stop at the last video frame)
    expect(Number(audio?.duration)).toBeGreaterThan(1.9);
    const again = await makeSample(join(dir, 'again.mp4'), { seconds: 2 });
    const [a, b] = await Promise.all([sample, again].map(async (f) => (await import('node:fs')).readFileSync(f)));
    expect(Buffer.compare(a, b)).toBe(0);
  });

  it('encodes the sample to H.264 and decodes it back with the right frames, size and pixels', async () => {
    const out = join(dir, 'h264.mp4');
    await runFfmpeg(['-i', sample, '-an', '-c:v', 'libx264', '-crf', '18', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', out]);
    const info = await probe(out, { countFrames: true });
    expect(Number(info.streams[0].nb_read_frames)).toBe(48);

    const src: Uint8Array[] = [];
    for await (const f of readFrames(sample, { width: 640, height: 360 })) src.push(f);
    const dec: Uint8Array[] = [];
    for await (const f of readFrames(out, { width: 640, height: 360 })) dec.push(f);
    expect(src.length).toBe(48);
    expect(dec.length).toBe(48);
    expect(src[0].length).toBe(640 * 360 * 3);
    // real detail: frames differ from each other (motion) and are far from flat
    expect(psnr(src[0], src[47])).toBeLessThan(20);
    const mean = src[10].reduce((s, v) => s + v, 0) / src[10].length;
    const variance = src[10].reduce((s, v) => s + (v - mean) ** 2, 0) / src[10].length;
    expect(Math.sqrt(variance)).toBeGreaterThan(30);
    // CRF 18 keeps the picture: each decoded frame is close to its source frame, and not to a neighbour's
    for (const i of [0, 23, 47]) expect(psnr(src[i], dec[i])).toBeGreaterThan(32);
    expect(psnr(src[23], dec[22])).toBeLessThan(psnr(src[23], dec[23]) - 3);
  });

  it('reads only the requested seconds and reports a non-video file clearly', async () => {
    const frames: Uint8Array[] = [];
    for await (const f of readFrames(sample, { width: 320, height: 180, seconds: 1 })) frames.push(f);
    expect(frames.length).toBe(24);
    expect(frames[0].length).toBe(320 * 180 * 3);
    await expect(probe(join(dir, 'missing.mp4'))).rejects.toThrow(/cannot read .*missing\.mp4/);
  });
});
