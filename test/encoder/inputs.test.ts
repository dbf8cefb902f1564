import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFfmpeg } from '../../src/encoder/media/ffmpeg.js';
import { readFrames } from '../../src/encoder/media/decode.js';
import { joinSegments, luma, makeClip, probeSegment, psnr, runCliInProcess, segmentOf } from './helpers.js';

async function collect(input: string, o: Parameters<typeof readFrames>[1]): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const f of readFrames(input, o)) out.push(f);
  return out;
}

const meanLumaPsnr = (a: Uint8Array[], b: Uint8Array[]) => a.reduce((s, x, i) => s + psnr(luma(x), luma(b[i])), 0) / a.length;

describe('inputs of other kinds', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hcd-inputs-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a video without audio gives video-only renditions and says so in CODECS', async () => {
    const clip = await makeClip(join(dir, 'silent.mp4'), { seconds: 1, width: 64, height: 48, audio: false });
    const out = join(dir, 'silent');
    const r = await runCliInProcess(['encode', clip, '-o', out, '--model', 'bicubic-x2', '--segment', '1', '--renditions', '100k', '--source-renditions', '']);
    expect(r.code, r.stderr).toBe(0);
    const master = readFileSync(join(out, 'master.m3u8'), 'utf8');
    expect(master).toMatch(/CODECS="avc1\.[0-9a-f]{6}"/);
    // no audio groups, no audio renditions
    expect(master).not.toContain('#EXT-X-MEDIA');
    expect(master).not.toContain('AUDIO=');
    expect(readdirSync(out).filter((f) => f.startsWith('audio-'))).toEqual([]);
    const p = await probeSegment(joinSegments(join(out, 'lr-100k'), join(dir, 'silent-0.mp4'), [segmentOf(out, 0)]));
    expect(p.audio).toBeUndefined();
    expect(p.frames).toBe(24);
  });

  it('a full-range (yuvj) source is read as full range', async () => {
    const tv = await makeClip(join(dir, 'tv.mp4'), { seconds: 1, width: 64, height: 48, audio: false });
    const clip = join(dir, 'pc.mp4');
    await runFfmpeg(['-i', tv, '-vf', 'scale=in_range=tv:out_range=pc,format=yuvj420p', '-c:v', 'libx264', '-crf', '8', '-color_range', 'pc', clip]);
    const out = join(dir, 'pc');
    const r = await runCliInProcess(['encode', clip, '-o', out, '--model', 'bicubic-x2', '--segment', '1', '--renditions', '100k', '--source-renditions', '3000k']);
    expect(r.code, r.stderr).toBe(0);
    const encoded = await collect(join(out, 'src-3000k', 'index.m3u8'), { width: 64, height: 48, passthrough: true });
    const right = await collect(clip, { width: 64, height: 48, range: 'pc' });
    const wrong = await collect(clip, { width: 64, height: 48, range: 'tv' });
    expect(encoded.length).toBe(24);
    const good = meanLumaPsnr(encoded, right);
    expect(good).toBeGreaterThan(35);
    // reading it as limited range would stretch the levels: much further from the output
    expect(meanLumaPsnr(encoded, wrong)).toBeLessThan(good - 8);
  });
});
