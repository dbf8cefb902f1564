import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/encoder/graph/builder.js';
import { createSession, ort } from '../../src/encoder/graph/session.js';
import { Rng } from '../../src/shared/rng.js';
import { cropInto } from '../../src/train/data.js';
import { addUpscaler, initPair, recurrentUp } from '../../src/train/nets.js';
import type { Params } from '../../src/train/params.js';
import { buildRecurrentObjective } from '../../src/train/recurrent.js';
import { checkGradients } from '../autodiff/fd.js';
import { genImage, TINY } from './helpers.js';

const P = 16; // HR side
const p2 = P / 2;

/** `frames` HR crops moving 1 px a frame over a generated picture, and their 2x2-mean LR frames. */
function sequence(frames: number): { hr: Float32Array[]; lr: Float32Array[] } {
  const img = genImage(40, 40, 4);
  const hr = Array.from({ length: frames }, (_, t) => {
    const x = new Float32Array(3 * P * P);
    cropInto(img, 4 + t, 6, P, 0, x, 0);
    return x;
  });
  const lr = hr.map((x) => {
    const y = new Float32Array(3 * p2 * p2);
    for (let c = 0; c < 3; c++)
      for (let i = 0; i < p2; i++)
        for (let j = 0; j < p2; j++) {
          const at = (di: number, dj: number) => x[c * P * P + (2 * i + di) * P + 2 * j + dj];
          y[c * p2 * p2 + i * p2 + j] = (at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1)) / 4;
        }
    return y;
  });
  return { hr, lr };
}

function randomised(seed: number): Params {
  const rng = new Rng(seed);
  const p = recurrentUp(initPair(TINY, rng), TINY.scale);
  // the zero-initialised output conv and recurrent channels would hide every other gradient
  for (const v of p.values()) for (let i = 0; i < v.data.length; i++) v.data[i] += 0.05 * rng.normal();
  return p;
}

describe('the recurrent upscaler', () => {
  it('starts as exactly the upscaler it was made from, whatever its previous output', async () => {
    const rng = new Rng(8);
    const plain = initPair(TINY, rng);
    for (const v of plain.values()) for (let i = 0; i < v.data.length; i++) v.data[i] += 0.05 * rng.normal();
    const rec = recurrentUp(plain, TINY.scale);
    const g1 = new GraphBuilder('plain');
    addUpscaler(g1, plain, TINY, g1.input('x', [1, 3, p2, p2]), 'y');
    g1.output('y', [1, 3, P, P]);
    const g2 = new GraphBuilder('rec');
    addUpscaler(g2, rec, TINY, g2.input('x', [1, 3, p2, p2]), 'y', 'up', g2.input('prev', [1, 3, P, P]));
    g2.output('y', [1, 3, P, P]);
    const { lr, hr } = sequence(1);
    const x = new ort.Tensor('float32', lr[0], [1, 3, p2, p2]);
    const a = (await (await createSession(g1.toModel())).run({ x })).y.data as Float32Array;
    const b = (await (await createSession(g2.toModel())).run({ x, prev: new ort.Tensor('float32', hr[0], [1, 3, P, P]) })).y.data as Float32Array;
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeLessThan(1e-6);
  });

  it('weight gradients through a three-frame unroll agree with finite differences', async () => {
    const p = randomised(6);
    const T = 3;
    const model = buildRecurrentObjective(p, TINY, T);
    const { hr, lr } = sequence(T);
    const feeds: Record<string, { data: Float32Array; dims: number[] }> = { prev: { data: new Float32Array(3 * P * P), dims: [1, 3, P, P] } };
    for (let t = 0; t < T; t++) {
      feeds[`lr${t}`] = { data: lr[t], dims: [1, 3, p2, p2] };
      feeds[`hr${t}`] = { data: hr[t], dims: [1, 3, P, P] };
    }
    const wrt = [...p.keys()].filter((k) => k.startsWith('up.'));
    const res = await checkGradients(model, { wrt, loss: { kind: 'scalar', output: 'loss' } }, feeds, { eps: 5e-4, dirs: 3 });
    for (const w of wrt) expect(res.relErr[w], w).toBeLessThan(0.05);
  }, 60_000);

  it('feeds each output into the next frame: a later frame changes with an earlier one', async () => {
    const p = randomised(7);
    const sess = await createSession(buildRecurrentObjective(p, TINY, 2));
    const { hr, lr } = sequence(2);
    const run = async (lr0: Float32Array) =>
      (await sess.run({ prev: new ort.Tensor('float32', new Float32Array(3 * P * P), [1, 3, P, P]), lr0: new ort.Tensor('float32', lr0, [1, 3, p2, p2]), lr1: new ort.Tensor('float32', lr[1], [1, 3, p2, p2]), hr0: new ort.Tensor('float32', hr[0], [1, 3, P, P]), hr1: new ort.Tensor('float32', hr[1], [1, 3, P, P]) })).y1.data as Float32Array;
    const a = await run(lr[0]);
    const b = await run(lr[0].map((v) => 1 - v));
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeGreaterThan(1e-3);
  });
});
