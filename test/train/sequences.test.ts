import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPair } from '../../src/encoder/pairs/load.js';
import { psnr } from '../../src/shared/metrics.js';
import type { TrainImage } from '../../src/train/data.js';
import { cameraFrames } from '../../src/train/moves.js';
import { buildSequences, MANIFEST, type SequenceSettings } from '../../src/train/sequences.js';
import { runCli } from '../encoder/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'hcd-seq-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A still with edges, texture and colour: stripes, a disc and noise-like detail. */
function still(w: number, h: number, k: number): TrainImage {
  const data = new Float32Array(3 * w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const stripe = (Math.floor((x + 2 * y + k) / 5) % 2) * 0.5;
      const disc = (x - w / 2) ** 2 + (y - h / 2) ** 2 < (w / 4) ** 2 ? 0.3 : 0;
      const detail = ((x * 37 + y * 91 + k * 13) % 17) / 80;
      for (let c = 0; c < 3; c++) data[c * w * h + y * w + x] = Math.min(1, 0.1 + stripe + disc * (c === 0 ? 1 : 0.3) + detail * (c + 1) * 0.5);
    }
  return { name: `still-${k}`, width: w, height: h, data };
}


describe('camera moves over a still', () => {
  it('a whole-pixel pan without blur shifts the picture by exactly the pan each frame', () => {
    const img = still(96, 96, 0);
    const [a, b] = cameraFrames(img, { dx: 3, dy: -2, zoom: 0, turn: 0 }, 2, { width: 32, height: 32 }, 1);
    for (let y = 2; y < 30; y++) for (let x = 0; x < 29; x++) for (let c = 0; c < 3; c++) expect(b[((y) * 32 + x) * 3 + c]).toBe(a[((y - 2) * 32 + x + 3) * 3 + c]);
  });

  it('motion blur softens a fast pan, and only a fast one', () => {
    const img = still(128, 128, 1);
    const fast = { dx: 6, dy: 0, zoom: 0, turn: 0 };
    const sharp = cameraFrames(img, fast, 1, { width: 48, height: 48 }, 1)[0];
    const blurred = cameraFrames(img, fast, 1, { width: 48, height: 48 }, 4)[0];
    const still0 = cameraFrames(img, { dx: 0, dy: 0, zoom: 0, turn: 0 }, 1, { width: 48, height: 48 }, 4)[0];
    const stillSharp = cameraFrames(img, { dx: 0, dy: 0, zoom: 0, turn: 0 }, 1, { width: 48, height: 48 }, 1)[0];
    expect(psnr(sharp, blurred, { width: 48, height: 48, channels: 3 })).toBeLessThan(30);
    expect(psnr(still0, stillSharp, { width: 48, height: 48, channels: 3 })).toBeGreaterThan(60);
  });
});

describe('hcd train-data: sequences through the real codec', () => {
  const settings: SequenceSettings = { pair: 'hcd-x2', size: { width: 64, height: 64 }, frames: 6, fps: 24, crfs: [24, 44], preset: 'medium', seed: 3 };
  const out = join(dir, 'set');

  it("codes D's LR frames with x264 and decodes them: more loss and fewer bits at a higher CRF", async () => {
    const pair = await loadPair('hcd-x2');
    const built: boolean[] = [];
    const set = await buildSequences(out, pair, [still(160, 160, 0), still(160, 160, 1)], 2, settings, (_, __, b) => built.push(b));
    expect(built).toEqual([true, true]);
    expect(set.lrSize).toEqual({ width: 32, height: 32 });
    for (const s of set.sequences) {
      const read = (f: string) => new Uint8Array(readFileSync(join(out, s.id, f)));
      const lr = read(s.lr);
      expect(lr.length).toBe(6 * 32 * 32 * 3);
      expect(read(s.hr).length).toBe(6 * 64 * 64 * 3);
      const q = (crf: number) => psnr(read(s.decoded[crf]), lr, { width: 32, height: 32 * 6, channels: 3 });
      expect(q(24)).toBeGreaterThan(q(44) + 3);
      expect(q(44)).toBeGreaterThan(15);
      expect(q(24)).toBeLessThan(60); // coded, not copied
      expect(s.bits[24]).toBeGreaterThan(s.bits[44]);
    }
    expect(existsSync(join(out, MANIFEST))).toBe(true);
    expect(readdirSync(out).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  }, 120_000);

  it('reuses what the folder holds, byte for byte, and refuses a folder built otherwise', async () => {
    const pair = await loadPair('hcd-x2');
    const first = readFileSync(join(out, 'seq-0000', 'crf44.rgb'));
    const built: boolean[] = [];
    await buildSequences(out, pair, [still(160, 160, 0), still(160, 160, 1)], 3, settings, (_, __, b) => built.push(b));
    expect(built).toEqual([false, false, true]);
    expect(Buffer.compare(readFileSync(join(out, 'seq-0000', 'crf44.rgb')), first)).toBe(0);
    await expect(buildSequences(out, pair, [still(160, 160, 0)], 1, { ...settings, crfs: [30, 40] })).rejects.toThrow(/other settings/);
  }, 120_000);

  it('refuses a missing stills folder with one line and writes nothing', async () => {
    const o = join(dir, 'never');
    const r = await runCli(['train-data', '-o', o, '--data', join(dir, 'no-such-folder'), '--count', '1']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/no-such-folder/);
    expect(existsSync(o)).toBe(false);
  }, 60_000);
});
