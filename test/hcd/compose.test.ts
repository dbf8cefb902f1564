import { describe, expect, it } from 'vitest';
import { buildGradientModel } from '../../src/encoder/graph/autodiff/index.js';
import { chainModels } from '../../src/encoder/hcd/compose.js';
import { quantize8 } from '../../src/shared/image.js';
import { buildHcdGraphs } from '../../src/encoder/hcd/nets.js';
import { Rng } from '../../src/shared/rng.js';
import { createSession, ort } from '../../src/encoder/graph/session.js';
import { decodeModel, encodeModel } from '../../src/encoder/graph/proto.js';
import { tensorFromProto } from '../../src/encoder/graph/tensor.js';
import { tinyPair } from './fixtures.js';

const H = 12;
const W = 16;

function randomImage(n: number, seed: number): Float32Array {
  const rng = new Rng(seed, 'mulberry32');
  return Float32Array.from({ length: n }, () => 0.15 + 0.7 * rng.next());
}

async function run(session: ort.InferenceSession, feeds: Record<string, Float32Array>, dims: Record<string, number[]>) {
  const f = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor('float32', v, dims[k])]));
  const out = await session.run(f);
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
}

describe('composed graphs', () => {
  it('the chained D -> Q -> U forward equals the networks run one after the other', async () => {
    const pair = tinyPair();
    const g = buildHcdGraphs(pair);
    const x = randomImage(3 * H * W, 1);
    const down = await createSession(pair.downscaler, { threads: 1 });
    const up = await createSession(pair.upscaler, { threads: 1 });
    const hr = await createSession(g.hrGrad, { threads: 1 });
    const y = (await run(down, { x }, { x: [1, 3, H, W] })).y;
    const sr = (await run(up, { x: quantize8(y.slice()) }, { x: [1, 3, H / 2, W / 2] })).y;
    let mse = 0;
    for (let i = 0; i < sr.length; i++) mse += (sr[i] - x[i]) ** 2;
    mse /= sr.length;
    const out = await run(hr, { x, target: x }, { x: [1, 3, H, W], target: [1, 3, H, W] });
    expect(out.loss[0]).toBeCloseTo(mse, 6);
    expect(out.grad_x).toHaveLength(x.length);
    await Promise.all([down.release(), up.release(), hr.release()]);
  });

  it('the gradient of the chained graph (D -> U, no rounding) matches finite differences', async () => {
    const pair = tinyPair();
    const chain = chainModels(
      [
        { model: pair.downscaler, prefix: 'd/' },
        { model: pair.upscaler, prefix: 'u/' },
      ],
      [],
    );
    const session = await createSession(buildGradientModel(chain, { wrt: ['x'], loss: { kind: 'mse', output: 'out', target: 'target' } }), { threads: 1 });
    const x = randomImage(3 * H * W, 2);
    const target = randomImage(3 * H * W, 3);
    const dims = { x: [1, 3, H, W], target: [1, 3, H, W] };
    const { grad_x: grad } = await run(session, { x, target }, dims);
    const rng = new Rng(4, 'mulberry32');
    const h = 1e-2;
    for (let k = 0; k < 8; k++) {
      const i = Math.floor(rng.next() * x.length);
      const xp = x.slice();
      const xm = x.slice();
      xp[i] += h;
      xm[i] -= h;
      const lp = (await run(session, { x: xp, target }, dims)).loss[0];
      const lm = (await run(session, { x: xm, target }, dims)).loss[0];
      const fd = (lp - lm) / (2 * h);
      expect(Math.abs(grad[i] - fd)).toBeLessThan(0.05 * Math.abs(fd) + 2e-6);
    }
    await session.release();
  });

  it('constants of a model read back from a file keep their values (pairs loaded from disk)', () => {
    const up = tinyPair().upscaler;
    // readFile gives a Buffer, and protobufjs decodes bytes fields as Buffer views into it
    const back = decodeModel(Buffer.from(encodeModel(up)));
    const a = up.graph!.initializer!;
    const b = back.graph!.initializer!;
    expect(b).toHaveLength(a.length);
    for (let i = 0; i < a.length; i++) expect(Array.from(tensorFromProto(b[i]).data as Float32Array)).toEqual(Array.from(tensorFromProto(a[i]).data as Float32Array));
  });
});
