import { describe, expect, it } from 'vitest';
import { createSession, ort } from '../../src/encoder/onnx/session.js';
import { jpegSteps } from '../../src/encoder/train/codec.js';
import { buildObjective } from '../../src/encoder/train/graph.js';
import { initPair } from '../../src/encoder/train/nets.js';
import { Rng } from '../../src/encoder/train/rng.js';
import { cropInto } from '../../src/encoder/train/data.js';
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
    return { p, P, x, steps };
  }

  it('chroma mix takes each sample through 4:2:0 or not, as its mask says', async () => {
    const { p, P, x, steps } = mixSetup();
    const n = 3 * P * P;
    const run = async (chroma: '420' | '444' | 'mix', idx: number[], mask?: number[]) => {
      const sess = await createSession(buildObjective(p, TINY, 0.5, { chroma }));
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
      return { rec: (r.rec_mse.data as Float32Array)[0], guide: (r.lr_guide.data as Float32Array)[0] };
    };
    const a420 = await run('420', [0]);
    const b444 = await run('444', [1]);
    const mixed = await run('mix', [0, 1], [1, 0]);
    // the batch mean of the two per-sample errors: sample 0 through 4:2:0, sample 1 as RGB
    expect(mixed.rec).toBeCloseTo((a420.rec + b444.rec) / 2, 7);
    // and the two paths differ on these pictures, so the mask mattered
    const b420 = await run('420', [1]);
    expect(Math.abs(b420.rec - b444.rec)).toBeGreaterThan(1e-5);
    const swapped = await run('mix', [0, 1], [0, 1]);
    expect(Math.abs(swapped.rec - mixed.rec)).toBeGreaterThan(1e-6);
  }, 60_000);

  it('weight gradients of the objective (chroma mix) agree with finite differences', async () => {
    const { p, P, x, steps } = mixSetup();
    const model = buildObjective(p, TINY, 0.5, { smooth: true, chroma: 'mix' });
    const wrt = [...p.keys()];
    const res = await checkGradients(
      model,
      { wrt, loss: { kind: 'scalar', output: 'objective' } },
      { x: { data: x, dims: [2, 3, P, P] }, steps: { data: steps, dims: [2, 192, 1, 1] }, chroma_mask: { data: Float32Array.from([1, 0]), dims: [2, 1, 1, 1] } },
      { eps: 5e-4, dirs: 3 },
    );
    for (const w of wrt) expect(res.relErr[w], w).toBeLessThan(0.05);
  }, 60_000);
});
