import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRescaler } from '../../src/encoder/hcd/rescalers.js';
import { downInProcess } from '../../src/encoder/ladder/down-process.js';
import { loadPair } from '../../src/encoder/pairs/load.js';

const dir = mkdtempSync(join(tmpdir(), 'hcd-down-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A frame with edges and texture, different each time. */
function frame(w: number, h: number, k: number): Uint8Array {
  const f = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) f[(y * w + x) * 3 + c] = ((x + 3 * k) % 16 < 8 ? 200 : 40) + ((x * 7 + y * 13 + c * 29 + k) % 23);
  return f;
}

describe('the probe D in a process of its own', () => {
  it('gives the bytes the pair gives in this process, frame for frame', async () => {
    const pair = await loadPair('hcd-x2');
    const hr = { width: 64, height: 48 };
    const frames = [0, 1, 2].map((k) => frame(hr.width, hr.height, k));
    writeFileSync(join(dir, 'hr.rgb'), Buffer.concat(frames));
    await downInProcess(pair, { threads: 1 }, hr, join(dir, 'hr.rgb'), join(dir, 'lr.rgb'));
    const got = readFileSync(join(dir, 'lr.rgb'));
    const r = await createRescaler(pair, { threads: 1 });
    const want = await Promise.all(frames.map(async (data, index) => (await r.process({ ...hr, data }, { index, sceneCut: index === 0 })).data));
    await r.close();
    expect(got.length).toBe(3 * 32 * 24 * 3);
    expect(Buffer.compare(got, Buffer.concat(want))).toBe(0);
  }, 60_000);

  it('fails with the model named where the pair cannot be loaded', async () => {
    const pair = await loadPair('hcd-x2');
    writeFileSync(join(dir, 'one.rgb'), frame(64, 48, 0));
    await expect(downInProcess({ ...pair, dir: join(dir, 'nowhere'), id: 'nowhere' }, { threads: 1 }, { width: 64, height: 48 }, join(dir, 'one.rgb'), join(dir, 'x.rgb'))).rejects.toThrow(/nowhere/);
  }, 60_000);
});
