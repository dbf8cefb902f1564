import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { decodePng, encodePng } from '../../src/encoder/media/png.js';
import { psnrY } from '../../src/shared/metrics.js';
import { texturedImage } from './fixtures.js';
import { runCli } from '../helpers/cli.js';


async function hcd(...args: string[]) {
  const r = await runCli(args);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The CLI in this process (no tsx start-up): what it wrote on stderr and its exit code. */
async function hcdHere(...args: string[]) {
  const { main } = await import('../../src/cli/main.js');
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    await main(['node', 'hcd', ...args]);
    return { code: process.exitCode ?? 0, stderr };
  } finally {
    process.exitCode = before;
    spy.mockRestore();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'hcd-cli-'));
const img = join(dir, 'tex.png');
const img2 = join(dir, 'tex2.png');
const fast = ['--model', 'bicubic-x2', '--hcd-iters', '3,3', '--eps', '1'];

beforeAll(() => {
  writeFileSync(img, encodePng(texturedImage(66, 50, 4))); // odd-ish size: cropped to 66x50 (already even)
  writeFileSync(img2, encodePng(texturedImage(49, 40, 6))); // 49 wide: cropped to 48 for x2
  writeFileSync(join(dir, 'notes.png'), 'not a picture');
  writeFileSync(join(dir, 'tiny.png'), encodePng(texturedImage(20, 20)));
});

describe('hcd image', () => {
  it('writes the four PNGs and reports metrics that match them', async () => {
    const out = join(dir, 'out1');
    const r = await hcd('image', img, '-o', out, ...fast, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(readdirSync(out).sort()).toEqual(['lr.png', 'lr_base.png', 'sr.png', 'sr_base.png']);
    const hr = texturedImage(66, 50, 4);
    const sr = decodePng(readFileSync(join(out, 'sr.png')));
    const lr = decodePng(readFileSync(join(out, 'lr.png')));
    expect([lr.width, lr.height]).toEqual([33, 25]);
    expect([sr.width, sr.height]).toEqual([66, 50]);
    // the reported Y-PSNR is that of the written file, border of 2 cropped
    expect(j.hcd.psnr_y).toBeCloseTo(psnrY(sr.data, hr.data, 66, 50, { crop: 2 }), 6);
    expect(j.hcd.psnr_y).toBeGreaterThan(j.pair.psnr_y);
    expect(j.lr_psnr).toBeGreaterThan(30);
    expect(j.model).toBe('bicubic-x2');
  });

  it('--keep-best and --schedule reach the loop: one more loss per stage, and still a gain', async () => {
    const r = await hcd('image', img, '-o', join(dir, 'out-best'), ...fast, '--keep-best', '--schedule', 'cosine', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    // 3 iterations, plus the last iterate's loss that the best-iterate rule evaluates
    expect(j.loss.hr).toHaveLength(4);
    expect(j.loss.lr).toHaveLength(4);
    expect(j.hcd.psnr_y).toBeGreaterThan(j.pair.psnr_y);
  });

  it('prints a readable report without --json', async () => {
    const r = await hcd('image', img2, '-o', join(dir, 'out2'), ...fast);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/cropped from 49x40/);
    expect(r.stdout).toMatch(/sr\.png +\(HCD\) +PSNR [\d.]+ dB +Y-PSNR [\d.]+ dB +Y-SSIM 0\.\d+/);
  });

  it.each([
    ['a missing file', ['image', join(dir, 'nope.png')], /no such image/],
    ['a file that is not an image', ['image', join(dir, 'notes.png')], /is not an image/],
    ['an image too small for the scale', ['image', join(dir, 'tiny.png')], /too small for x2/],
    ['an unknown model', ['image', img, '--model', 'no-such-pair'], /unknown pair 'no-such-pair'/],
    ['a bad number', ['image', img, '--eps', 'big'], /--eps must be a number/],
    ['a bad step rule', ['image', img, '--rule', 'sgd'], /unknown step rule/],
    ['a bad step schedule', ['image', img, '--schedule', 'linear'], /unknown step schedule 'linear'/],
  ])('fails in one line on %s, writing nothing', async (_what, args, msg) => {
    const out = join(dir, `bad-${Math.random().toString(36).slice(2)}`);
    const r = await hcdHere(...args, '-o', out);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(msg);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
  });
});

describe('hcd eval', () => {
  it('prints the ablation JSON in exactly the documented shape', async () => {
    const r = await hcd('eval', img, img2, ...fast, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    const q = ['psnr_rgb', 'psnr_y', 'ssim_y'];
    const variants = ['bicubic', 'pair', 'hr_only', 'lr_only', 'hcd'];
    expect(Object.keys(j)).toEqual(['model', 'scale', 'images', 'mean']);
    expect(j.scale).toBe(2);
    expect(j.images).toHaveLength(2);
    for (const im of j.images) {
      expect(Object.keys(im)).toEqual(['file', ...variants, 'lr_psnr', 'seconds']);
      for (const v of variants) expect(Object.keys(im[v])).toEqual(q);
      // with the bicubic pair, 'bicubic' and 'pair' are the same pipeline
      expect(im.bicubic.psnr_y).toBeCloseTo(im.pair.psnr_y, 6);
      expect(im.hcd.psnr_y).toBeGreaterThan(im.pair.psnr_y);
    }
    expect(Object.keys(j.mean)).toEqual(variants);
    expect(j.mean.hcd.psnr_y).toBeCloseTo((j.images[0].hcd.psnr_y + j.images[1].hcd.psnr_y) / 2, 9);
    // progress goes to stderr, one line per image
    expect(r.stderr.trim().split('\n')).toHaveLength(2);
  });

  it('reads the images of a folder and rejects a folder without any', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'hcd-empty-'));
    const r = await hcdHere('eval', empty, ...fast);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no images in folder/);
    const sub = mkdtempSync(join(tmpdir(), 'hcd-one-'));
    writeFileSync(join(sub, 'a.png'), encodePng(texturedImage(40, 40, 2)));
    const ok = await hcd('eval', sub, ...fast, '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).images[0].file).toBe(join(sub, 'a.png'));
  });
});
