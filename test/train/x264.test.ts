import { describe, expect, it } from 'vitest';
import { createSession, ort } from '../../src/encoder/graph/session.js';
import { cropInto, validationCrops, type TrainImage } from '../../src/train/data.js';
import { buildLrModel, buildObjective } from '../../src/train/graph.js';
import { initPair } from '../../src/train/nets.js';
import { realX264 } from '../../src/train/proxycheck.js';
import { Rng } from '../../src/shared/rng.js';
import { defaultConfig, initialState, train, type TrainConfig } from '../../src/train/trainer.js';
import { mosaicLayout, tileCrops, untileCrops, validateX264, x264Residual } from '../../src/train/x264.js';
import { psnrPlane } from '../../src/shared/metrics.js';
import { checkGradients } from '../autodiff/fd.js';
import { genBlocks, genImage, TINY } from './helpers.js';

/** n random crops of `img`, planar [n,3,p,p]. */
function crops(n: number, p: number, seed: number, img = genImage(96, 96, seed)): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(n * 3 * p * p);
  for (let b = 0; b < n; b++) cropInto(img, rng.int(img.width - p + 1), rng.int(img.height - p + 1), p, rng.int(8), x, b * 3 * p * p);
  return x;
}

function grey(img: TrainImage): TrainImage {
  const n = img.width * img.height;
  const data = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) data[i] = data[n + i] = data[2 * n + i] = (img.data[i] + img.data[n + i] + img.data[2 * n + i]) / 3;
  return { ...img, data };
}

const to8 = (x: Float32Array) => x.map((v) => Math.round(v * 255) / 255);
const db = (a: Float32Array, b: Float32Array) => psnrPlane(a, b, a.length, 1, { peak: 1 });

describe('x264 in the training loop', () => {
  it('tiles crops into one picture and cuts them out again exactly', () => {
    expect(mosaicLayout(16)).toEqual({ cols: 4, rows: 4 });
    expect(mosaicLayout(5)).toEqual({ cols: 3, rows: 2 });
    const q = to8(crops(5, 16, 1));
    const img = tileCrops(q, 5, 16, 16);
    expect([img.width, img.height]).toEqual([48, 32]);
    expect(Array.from(untileCrops(img, 5, 16, 16))).toEqual(Array.from(q));
    // the sixth cell is grey
    expect(img.data[(20 * 48 + 40) * 3]).toBe(128);
  });

  it('codes a tiled step close to what coding each crop alone gives', async () => {
    const n = 4;
    const h = 32;
    const q = to8(crops(n, h, 2));
    const zero = new Float32Array(q.length);
    const tiled = await x264Residual(q, zero, n, h, h, 26, new Array(n).fill(false));
    const rows: number[][] = [];
    for (let b = 0; b < n; b++) {
      const one = q.slice(b * 3 * h * h, (b + 1) * 3 * h * h);
      const alone = untileCrops((await realX264(tileCrops(one, 1, h, h), 26)).img, 1, h, h);
      const fromTile = tiled.slice(b * 3 * h * h, (b + 1) * 3 * h * h);
      rows.push([db(fromTile, one), db(alone, one), db(fromTile, alone)]);
    }
    // both are real decodes: 4:2:0 takes most of the striped colour (~22.5 dB against the input
    // either way). A tile loses about as much as the crop alone, and mostly in the same places:
    // the decodes are closer to each other (25-34 dB) than to the input. They are not identical:
    // the frame's QP follows the whole picture's complexity, and intra prediction its neighbours.
    for (const [tileVsIn, aloneVsIn, tileVsAlone] of rows) {
      expect(tileVsIn).toBeLessThan(40);
      expect(Math.abs(tileVsIn - aloneVsIn)).toBeLessThan(1);
      expect(tileVsAlone).toBeGreaterThan(aloneVsIn + 1.5);
    }
  });

  it('zeroes the residual of crops marked lossless and codes nothing when all are', async () => {
    const q = to8(crops(2, 16, 3));
    const sub = q.map((v) => v + 0.01);
    const res = await x264Residual(q, sub, 2, 16, 16, 30, [true, false]);
    const per = 3 * 16 * 16;
    expect(res.slice(0, per).every((v) => v === 0)).toBe(true);
    expect(res.slice(per).some((v) => v !== 0)).toBe(true);
    expect((await x264Residual(q, sub, 2, 16, 16, 30, [true, true])).every((v) => v === 0)).toBe(true);
  });

  it('the objective sees exactly the decoded frames: U(x264(Q(D(x)))) against x', async () => {
    const rng = new Rng(4);
    const p = initPair(TINY, rng);
    for (const v of p.values()) for (let i = 0; i < v.data.length; i++) v.data[i] += 0.02 * rng.normal();
    const n = 4;
    const P = 32;
    const h = P / 2;
    const x = crops(n, P, 4);
    const xt = new ort.Tensor('float32', x, [n, 3, P, P]);
    const lrSess = await createSession(buildLrModel(p, TINY, { chroma: '420' }), { threads: 1 });
    const o = await lrSess.run({ x: xt });
    await lrSess.release();
    const q = o.q.data as Float32Array;
    const sub = o.sub.data as Float32Array;
    const res = await x264Residual(q, sub, n, h, h, 34, new Array(n).fill(false));
    const decoded = untileCrops((await realX264(tileCrops(q, n, h, h), 34)).img, n, h, h);
    for (let i = 0; i < res.length; i += 97) expect(sub[i] + res[i]).toBeCloseTo(decoded[i], 5);

    // the objective's reconstruction error equals U applied to the decoded LR directly (lambda 0)
    const obj = await createSession(buildObjective(p, TINY, 0, { chroma: '420', codec: 'x264' }), { threads: 1 });
    const r = await obj.run({ x: xt, codec_res: new ort.Tensor('float32', res, [n, 3, h, h]) });
    await obj.release();
    const direct = await createSession(buildObjective(p, TINY, 0, { smooth: true, codec: 'x264' }), { threads: 1 });
    // smooth + 4:4:4 + residual (decoded - D(x) unrounded) feeds U the decoded LR as well
    const lrRaw = await createSession(buildLrModel(p, TINY, { smooth: true }), { threads: 1 });
    const raw = (await lrRaw.run({ x: xt })).q.data as Float32Array;
    await lrRaw.release();
    const r2 = await direct.run({ x: xt, codec_res: new ort.Tensor('float32', decoded.map((v, i) => v - raw[i]), [n, 3, h, h]) });
    await direct.release();
    const mse = (r.rec_mse.data as Float32Array)[0];
    expect(mse).toBeGreaterThan(0);
    expect(mse).toBeCloseTo((r2.rec_mse.data as Float32Array)[0], 6);
  });

  it('weight gradients with the codec residual agree with finite differences (straight-through into D)', async () => {
    const rng = new Rng(6);
    const p = initPair(TINY, rng);
    for (const v of p.values()) for (let i = 0; i < v.data.length; i++) v.data[i] += 0.05 * rng.normal();
    const model = buildObjective(p, TINY, 0.5, { smooth: true, chroma: '420', codec: 'x264' });
    const P = 16;
    const res = new Float32Array(2 * 3 * 8 * 8).map(() => 0.03 * rng.normal());
    const wrt = [...p.keys()];
    const out = await checkGradients(
      model,
      { wrt, loss: { kind: 'scalar', output: 'objective' } },
      { x: { data: crops(2, P, 6), dims: [2, 3, P, P] }, codec_res: { data: res, dims: [2, 3, 8, 8] } },
      { eps: 5e-4, dirs: 3 },
    );
    for (const w of wrt) expect(out.relErr[w], w).toBeLessThan(0.05);
  }, 60_000);

  it('training through real x264 makes a pair better after x264 than training it without a codec', async () => {
    // grey pictures: 4:2:0 keeps them whole, so what there is to learn is the codec's damage
    const images = [grey(genBlocks(128, 96, 0)), grey(genBlocks(96, 128, 1)), grey(genImage(128, 128, 2))];
    const valCrops = validationCrops([grey(genBlocks(128, 128, 3))], 32, 4);
    const data = { train: images, valCrops, valCrop: 32 };
    const arch = { ...TINY, upChannels: 8 };
    const CRF = 30;
    const base: TrainConfig = { ...defaultConfig(2, arch), steps: 60, batch: 8, crop: 32, seed: 5, valEvery: 0, checkpointEvery: 1000, adam: { ...defaultConfig(2, arch).adam, lr: 5e-3, warmup: 2 } };
    const run = async (cfg: TrainConfig) => {
      const state = await train(cfg, data, initialState(cfg), { threads: 1 });
      return validateX264(state.params, arch, valCrops, 32, CRF, 1);
    };
    const coded = await run({ ...base, losslessProb: 0, codec: 'x264', crf: [CRF, CRF] });
    const plain = await run({ ...base, losslessProb: 1 });
    // measured: 27.07 vs 26.79 dB
    expect(coded).toBeGreaterThan(plain + 0.15);
  }, 90_000);
});
