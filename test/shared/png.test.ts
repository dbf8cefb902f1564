import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFfmpeg } from '../../src/encoder/media/ffmpeg.js';
import { readImage, writePng } from '../../src/encoder/media/png.js';
import { HcdError } from '../../src/shared/errors.js';
import { psnr } from '../../src/shared/metrics.js';

const W = 48;
const H = 32;
let dir: string;

/** The same lavfi test pattern, written by ffmpeg in the given pixel format. */
async function pattern(name: string, pixFmt: string): Promise<string> {
  const out = join(dir, name);
  await runFfmpeg(['-f', 'lavfi', '-i', `testsrc2=size=${W}x${H}:rate=1`, '-frames:v', '1', '-pix_fmt', pixFmt, out]);
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hcd-png-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readImage / writePng', () => {
  it('round-trips a generated RGB image exactly and leaves no temp file', async () => {
    const data = new Uint8Array(W * H * 3).map((_, i) => (i * 31 + (i >> 5)) & 255);
    const path = join(dir, 'rt.png');
    await writePng(path, { width: W, height: H, data });
    const back = await readImage(path);
    expect([back.width, back.height]).toEqual([W, H]);
    expect(psnr(back.data, data, { width: W, height: H })).toBe(Infinity);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('reads 8-bit RGB, RGBA, 16-bit and grey PNGs as the same RGB8 pixels', async () => {
    const rgb = await readImage(await pattern('rgb.png', 'rgb24'));
    expect([rgb.width, rgb.height, rgb.data.length]).toEqual([W, H, W * H * 3]);
    // a real picture, not a flat one
    expect(new Set(rgb.data).size).toBeGreaterThan(20);

    const rgba = await readImage(await pattern('rgba.png', 'rgba'));
    expect(psnr(rgba.data, rgb.data, { width: W, height: H })).toBe(Infinity);

    const deep = await readImage(await pattern('rgb48.png', 'rgb48be'));
    expect(psnr(deep.data, rgb.data, { width: W, height: H })).toBeGreaterThan(50);

    const grey = await readImage(await pattern('grey.png', 'gray'));
    for (let i = 0; i < W * H; i++) {
      expect(grey.data[i * 3]).toBe(grey.data[i * 3 + 1]);
      expect(grey.data[i * 3]).toBe(grey.data[i * 3 + 2]);
    }
  });

  it('reads a JPEG through ffmpeg, close to the PNG of the same picture', async () => {
    const rgb = await readImage(join(dir, 'rgb.png'));
    const jpgPath = join(dir, 'q.jpg');
    await runFfmpeg(['-i', join(dir, 'rgb.png'), '-q:v', '2', jpgPath]);
    const jpg = await readImage(jpgPath);
    expect([jpg.width, jpg.height]).toEqual([W, H]);
    const p = psnr(jpg.data, rgb.data, { width: W, height: H });
    expect(p).toBeGreaterThan(22);
    expect(p).toBeLessThan(Infinity);
  });

  it('gives a one-line HcdError for a missing file and for a non-image', async () => {
    await expect(readImage(join(dir, 'nope.png'))).rejects.toThrow(HcdError);
    await expect(readImage(join(dir, 'nope.png'))).rejects.toThrow(/no such image/);
    const txt = join(dir, 'notes.png');
    await writeFile(txt, 'just some text, not pixels\n');
    await expect(readImage(txt)).rejects.toThrow(HcdError);
    const broken = join(dir, 'broken.png');
    const good = await readImage(join(dir, 'rgb.png'));
    await writePng(broken, good);
    const { readFile } = await import('node:fs/promises');
    const bytes = await readFile(broken);
    await writeFile(broken, bytes.subarray(0, 60));
    await expect(readImage(broken)).rejects.toThrow(/not a valid PNG/);
  });
});
