import { describe, expect, it } from 'vitest';
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
});
