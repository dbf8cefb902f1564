import { describe, expect, it } from 'vitest';
import { createSession, ort } from '../../src/encoder/graph/session.js';
import { jpegSteps } from '../../src/train/codec.js';
import { buildObjective } from '../../src/train/graph.js';
import { initPair, type PairArch } from '../../src/train/nets.js';
import type { Params } from '../../src/train/params.js';
import { Rng } from '../../src/shared/rng.js';
import { cropInto } from '../../src/train/data.js';
import { checkGradients } from '../autodiff/fd.js';
import { genImage, TINY } from './helpers.js';

describe('training graph gradients', () => {
  it.each([['444'], ['420']] as const)('weight gradients of the objective (chroma %s) agree with finite differences', async (chroma) => {
    const rng = new Rng(3);
    const p = initPair(TINY, rng);
    // the zero-initialised output convs would hide every earlier layer's gradient: randomise all
    for (const v of p.values()) for (let i = 0; i < v.data.length; i++) v.data[i] += 0.05 * rng.normal();
    const model = buildObjective(p, TINY, 0.5, { smooth: true, chroma });
    const P = 16;
    const x = new Float32Array(2 * 3 * P * P);
    const img = genImage(40, 40);
    cropInto(img, 3, 5, P, 0, x, 0);
    cropInto(img, 11, 2, P, 5, x, 3 * P * P);
    const steps = new Float32Array(2 * 192);
    steps.set(jpegSteps(50), 0);
    steps.set(jpegSteps(80), 192);
    const wrt = [...p.keys()];
    const res = await checkGradients(
      model,
      { wrt, loss: { kind: 'scalar', output: 'objective' } },
      { x: { data: x, dims: [2, 3, P, P] }, steps: { data: steps, dims: [2, 192, 1, 1] } },
      { eps: 5e-4, dirs: 3 },
    );
    for (const w of wrt) expect(res.relErr[w], w).toBeLessThan(0.05);
  }, 60_000);

  // two crops of a generated picture, and the randomised tiny pair, shared by the 'mix' tests
  function mixSetup() {
    const rng = new Rng(5);
    const p = initPair(TINY, rng);
    for (const v of p.values()) for (let i = 0; i < v.data.length; i++) v.data[i] += 0.05 * rng.normal();
    const P = 16;
    const img = genImage(40, 40, 2);
    const x = new Float32Array(2 * 3 * P * P);
    cropInto(img, 1, 7, P, 0, x, 0);
    cropInto(img, 9, 3, P, 2, x, 3 * P * P);
    const steps = new Float32Array(2 * 192);
    steps.set(jpegSteps(40), 0);
    steps.set(jpegSteps(70), 192);
    const n = 3 * P * P;
    /** The reconstruction MSE of the objective on the samples `idx`, with `mask` under chroma mix. */
    const rec = async (pp: Params, arch: PairArch, chroma: '420' | '444' | 'mix', idx: number[], mask?: number[]) => {
      const sess = await createSession(buildObjective(pp, arch, 0.5, { chroma }));
      const xs = new Float32Array(idx.length * n);
      const st = new Float32Array(idx.length * 192);
      idx.forEach((k, j) => {
        xs.set(x.subarray(k * n, (k + 1) * n), j * n);
        st.set(steps.subarray(k * 192, (k + 1) * 192), j * 192);
      });
      const feed: Record<string, ort.Tensor> = {
        x: new ort.Tensor('float32', xs, [idx.length, 3, P, P]),
        steps: new ort.Tensor('float32', st, [idx.length, 192, 1, 1]),
      };
      if (mask) feed.chroma_mask = new ort.Tensor('float32', Float32Array.from(mask), [idx.length, 1, 1, 1]);
      const r = await sess.run(feed);
      await sess.release();
      return (r.rec_mse.data as Float32Array)[0];
    };
    return { p, P, x, steps, rec };
  }

  it('chroma mix takes each sample through 4:2:0 or not, as its mask says', async () => {
    const { p, rec } = mixSetup();
    const run = (chroma: '420' | '444' | 'mix', idx: number[], mask?: number[]) => rec(p, TINY, chroma, idx, mask);
    const a420 = await run('420', [0]);
    const b444 = await run('444', [1]);
    const mixed = await run('mix', [0, 1], [1, 0]);
    // the batch mean of the two per-sample errors: sample 0 through 4:2:0, sample 1 as RGB
    expect(mixed).toBeCloseTo((a420 + b444) / 2, 7);
    // and the two paths differ on these pictures, so the mask mattered
    const b420 = await run('420', [1]);
    expect(Math.abs(b420 - b444)).toBeGreaterThan(1e-5);
    const swapped = await run('mix', [0, 1], [0, 1]);
    expect(Math.abs(swapped - mixed)).toBeGreaterThan(1e-6);
  }, 60_000);

  it('with a still head, each sample of a mix batch is scored by its own upscaler', async () => {
    const { p: p0, rec } = mixSetup();
    const arch = { ...TINY, stillHead: true };
    const p = initPair(arch, new Rng(8));
    for (const [k, v] of p) v.data.set(p0.get(k)?.data ?? v.data.map((_, i) => 0.1 * Math.sin(i + k.length)));
    // the same pair with its U swapped for the still head
    const asStill = new Map([...p].filter(([k]) => !k.startsWith('up.')).map(([k, v]) => [k.replace(/^still\./, 'up.'), v]));
    const a420 = await rec(p, TINY, '420', [0]);
    const bRgbStill = await rec(asStill, TINY, '444', [1]);
    const mixed = await rec(p, arch, 'mix', [0, 1], [1, 0]);
    expect(mixed).toBeCloseTo((a420 + bRgbStill) / 2, 7);
    // and the RGB sample through U instead would score differently: the head is what changed
    const bRgbU = await rec(p, TINY, '444', [1]);
    expect(Math.abs(bRgbU - bRgbStill)).toBeGreaterThan(1e-5);
    expect(() => buildObjective(p, arch, 0.5, { chroma: '420' })).toThrow(/chroma mix/);
  }, 60_000);

  it.each([
    ['one upscaler', TINY],
    ['a still head for the RGB samples', { ...TINY, stillHead: true }],
  ] as const)('weight gradients of the objective (chroma mix, %s) agree with finite differences', async (_, arch) => {
    const { P, x, steps } = mixSetup();
    const rng = new Rng(6);
    const p = initPair(arch, rng);
    for (const v of p.values()) for (let i = 0; i < v.data.length; i++) v.data[i] += 0.05 * rng.normal();
    const model = buildObjective(p, arch, 0.5, { smooth: true, chroma: 'mix' });
    const wrt = [...p.keys()];
    expect(wrt.some((w) => w.startsWith('still.'))).toBe(arch !== TINY);
    const res = await checkGradients(
      model,
      { wrt, loss: { kind: 'scalar', output: 'objective' } },
      { x: { data: x, dims: [2, 3, P, P] }, steps: { data: steps, dims: [2, 192, 1, 1] }, chroma_mask: { data: Float32Array.from([1, 0]), dims: [2, 1, 1, 1] } },
      { eps: 5e-4, dirs: 3 },
    );
    for (const w of wrt) expect(res.relErr[w], w).toBeLessThan(0.05);
  }, 90_000);
});
