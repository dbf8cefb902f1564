import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/encoder/graph/builder.js';
import { addChroma420 } from '../../src/encoder/graph/chroma.js';
import { createSession, ort } from '../../src/encoder/graph/session.js';
import { buildObjective } from '../../src/train/graph.js';
import { addDownscaler, initPair, type PairArch } from '../../src/train/nets.js';
import type { Params } from '../../src/train/params.js';
import { realYuv420, rgbPsnr } from '../../src/train/proxycheck.js';
import { Rng } from '../../src/shared/rng.js';
import { cropInto, saturateBatch, validationCrops } from '../../src/train/data.js';
import { defaultConfig, initFrom, initialState, isTrainable, train, validate, type TrainConfig } from '../../src/train/trainer.js';
import { tensorToImage } from '../../src/shared/image.js';
import { checkGradients } from '../autodiff/fd.js';
import { genImage, TINY } from './helpers.js';

const HIDE: PairArch = { ...TINY, stillHead: true, hideChannels: 6, hideHidden: 1 };

/**
 * The tiny pair with every weight randomised, the hiding branch included; its output layer small
 * enough that the LR stays inside 0-1 (a clipped value would leave the patterns' null space, as
 * it would in a real LR).
 */
function randomPair(seed: number, hideOut = 0.005): Params {
  const rng = new Rng(seed);
  const p = initPair(HIDE, rng);
  for (const [n, v] of p) for (let i = 0; i < v.data.length; i++) v.data[i] += (n === 'hide.out.w' ? hideOut : 0.05) * rng.normal();
  return p;
}

/** D's LR for `arch` (with or without the branch), and its 4:2:0 round trip by the training stage. */
async function downscale(p: Params, arch: PairArch, x: Float32Array, H: number, W: number): Promise<{ lr: Float32Array; s420: Float32Array }> {
  const g = new GraphBuilder('d');
  const lr = addDownscaler(g, p, arch, g.input('x', [1, 3, H, W]), 'lr');
  addChroma420(g, lr, 's420');
  g.output('lr');
  g.output('s420');
  const sess = await createSession(g.toModel(), { threads: 1 });
  const r = await sess.run({ x: new ort.Tensor('float32', x, [1, 3, H, W]) });
  await sess.release();
  return { lr: r.lr.data as Float32Array, s420: r.s420.data as Float32Array };
}

const maxAbs = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('still stage: the hiding branch', () => {
  it('adds colour detail that 4:2:0 removes: exactly in the training stage, and through ffmpeg but for 8-bit rounding', async () => {
    const p = randomPair(4);
    const img = genImage(96, 64, 3);
    const withBranch = await downscale(p, HIDE, img.data, 64, 96);
    const without = await downscale(p, TINY, img.data, 64, 96);
    const n = 48 * 32;
    // the branch changes the RGB LR, but not its luma, and not what the 4:2:0 stage keeps
    expect(maxAbs(withBranch.lr, without.lr)).toBeGreaterThan(0.02);
    let maxDy = 0;
    for (let i = 0; i < n; i++) {
      const d = (c: number) => withBranch.lr[c * n + i] - without.lr[c * n + i];
      maxDy = Math.max(maxDy, Math.abs(0.2126 * d(0) + 0.7152 * d(1) + 0.0722 * d(2)));
    }
    expect(maxDy).toBeLessThan(1e-6);
    expect(maxAbs(withBranch.s420, without.s420)).toBeLessThan(1e-6);
    // the patterns carry only what the branch writes: with its output at zero, the LR has no
    // component along them, whatever colour texture the picture has
    const silent = new Map([...p].map(([k, v]) => [k, k.startsWith('hide.out') ? { dims: v.dims, data: new Float32Array(v.data.length) } : v]));
    const cleared = (await downscale(silent, HIDE, img.data, 64, 96)).lr;
    const along = (lr: Float32Array) => {
      let m = 0;
      for (let by = 0; by < 16; by++)
        for (let bx = 0; bx < 24; bx++)
          for (const pat of [[1, -1, 1, -1], [1, -1, -1, 1]]) {
            let cb = 0;
            pat.forEach((w, k) => {
              const i = (2 * by + (k >> 1)) * 48 + 2 * bx + (k & 1);
              cb += w * (-0.1146 * lr[i] - 0.3854 * lr[n + i] + 0.5 * lr[2 * n + i]);
            });
            m = Math.max(m, Math.abs(cb));
          }
      return m;
    };
    expect(along(without.lr)).toBeGreaterThan(0.01);
    expect(along(cleared)).toBeLessThan(1e-5);
    // the encoder's own conversion (ffmpeg, bicubic chroma filter) on the 8-bit LRs
    const a = tensorToImage(withBranch.lr, 48, 32);
    const b = tensorToImage(without.lr, 48, 32);
    const before = rgbPsnr(a, b);
    const after = rgbPsnr(await realYuv420(a), await realYuv420(b));
    expect(before).toBeLessThan(40);
    // 30.5 dB apart before, 44.5 after: what is left is the rounding of two 8-bit LRs
    expect(after).toBeGreaterThan(before + 10);
  }, 30_000);

  it('gradients of the still-stage objective (hiding branch and still head) agree with finite differences', async () => {
    // a stronger branch than a trained one, so that its weights' gradients stand out of float32 noise
    const p = randomPair(7, 0.03);
    const P = 16;
    const img = genImage(40, 40, 1);
    const x = new Float32Array(2 * 3 * P * P);
    cropInto(img, 2, 6, P, 0, x, 0);
    cropInto(img, 8, 4, P, 3, x, 3 * P * P);
    // mid-range pixels, so the LR's clip to 0-1 stays out of the way
    for (let i = 0; i < x.length; i++) x[i] = 0.25 + 0.5 * x[i];
    const cfg: TrainConfig = { ...defaultConfig(2, HIDE), stillStage: true };
    const trainable = (n: string) => isTrainable(cfg, n);
    const wrt = [...p.keys()].filter(trainable);
    expect(wrt.length).toBe([...p.keys()].filter((n) => n.startsWith('hide.') || n.startsWith('still.')).length);
    const model = buildObjective(p, HIDE, 0.5, { smooth: true, chroma: '444', head: 'still', trainable });
    const feeds = { x: { data: x, dims: [2, 3, P, P] }, steps: { data: new Float32Array(2 * 192).fill(1e-6), dims: [2, 192, 1, 1] } };
    const opts = { wrt, loss: { kind: 'scalar' as const, output: 'objective' } };
    // the branch's first conv sees 48 channels of 4x4 HR blocks: a step along a random direction
    // crosses PReLU kinks at the larger step, and float32 noise swamps the PReLU slopes at the
    // smaller one; the gradient is right when either step agrees
    const small = await checkGradients(model, opts, feeds, { eps: 1e-4, dirs: 3 });
    const large = await checkGradients(model, opts, feeds, { eps: 5e-4, dirs: 3 });
    for (const w of wrt) expect(Math.min(small.relErr[w], large.relErr[w]), w).toBeLessThan(0.05);
  }, 60_000);

  it('a deeper still head starts as the one it came from (identity layer), then trains', async () => {
    const p = randomPair(9);
    const deeper: PairArch = { ...HIDE, stillHidden: (HIDE.upHidden ?? 1) + 1 };
    const state = initialState({ ...defaultConfig(2, deeper), arch: deeper });
    const copied = initFrom(state, { params: p });
    expect(copied.length).toBe(p.size);
    const crops = validationCrops([genImage(64, 64, 4)], 32, 2);
    const a = await validate(p, HIDE, crops, 32, 1);
    const b = await validate(state.params, deeper, crops, 32, 1);
    expect(b.psnr).toBeCloseTo(a.psnr, 5);
    expect(state.params.get(`still.c${deeper.stillHidden}.a`)?.data.every((v) => v === 1)).toBe(true);
  });

  it('trains only the branch and the still head: lossless RGB improves, the streamed path stays', async () => {
    const images = [genImage(96, 80, 0), genImage(80, 96, 1), genImage(90, 90, 2)];
    const valCrops = validationCrops([genImage(96, 96, 3)], 32, 4);
    const data = { train: images, valCrops, valCrop: 32 };
    const base: TrainConfig = { ...defaultConfig(2, TINY), steps: 30, batch: 4, crop: 32, seed: 5, chroma: '420', losslessProb: 1, valEvery: 0, checkpointEvery: 100, adam: { ...defaultConfig(2, TINY).adam, lr: 5e-3, warmup: 2 } };
    const first = await train(base, data, initialState(base), { threads: 1 });
    const cfg: TrainConfig = { ...base, seed: 6, steps: 40, arch: HIDE, chroma: '444', stillStage: true };
    const state = initialState(cfg);
    for (const [n, v] of first.params) state.params.get(n)?.data.set(v.data);
    for (const [n, v] of first.params) if (n.startsWith('up.')) state.params.get(`still.${n.slice(3)}`)?.data.set(v.data);
    const frozen = new Map([...state.params].filter(([n]) => n.startsWith('down.') || n.startsWith('up.')).map(([n, v]) => [n, v.data.slice()]));
    const before = await validate(state.params, HIDE, valCrops, 32, 1, true);
    await train(cfg, data, state, { threads: 1 });
    const after = await validate(state.params, HIDE, valCrops, 32, 1, true);
    for (const [n, d] of frozen) expect(state.params.get(n)?.data, n).toEqual(d);
    expect(maxAbs(state.params.get('hide.out.w')!.data, new Float32Array(state.params.get('hide.out.w')!.data.length))).toBeGreaterThan(0);
    expect(after.psnr).toBeGreaterThan(before.psnr + 0.1);
    // through 4:2:0 only the 8-bit rounding of the new LR differs
    expect(Math.abs(after.psnr420! - before.psnr420!)).toBeLessThan(0.05);
    // the branch first clears the LR's own colour texture along the patterns (28.5 dB from bicubic
    // on these strongly striped pictures); training puts back what is worth its guidance cost
    expect(after.lrPsnr).toBeGreaterThan(before.lrPsnr + 0.2);
  }, 90_000);
});

describe('--saturate', () => {
  it('boosts the colour of the drawn share of crops 1-3x and keeps their luma', () => {
    const p = 16;
    const batch = 400;
    const img = genImage(40, 40, 5);
    const x = new Float32Array(batch * 3 * p * p);
    for (let b = 0; b < batch; b++) cropInto(img, 4 + (b % 9), 3, p, 0, x, b * 3 * p * p);
    const before = x.slice();
    saturateBatch(x, batch, p, 0.3, new Rng(3));
    const n = p * p;
    let changed = 0;
    for (let b = 0; b < batch; b++) {
      const o = b * 3 * n;
      if (x.subarray(o, o + 3 * n).every((v, i) => v === before[o + i])) continue;
      changed++;
      let spreadBefore = 0;
      let spreadAfter = 0;
      let lumaDiff = 0;
      for (let i = 0; i < n; i++) {
        const y = (a: Float32Array) => 0.2126 * a[o + i] + 0.7152 * a[o + n + i] + 0.0722 * a[o + 2 * n + i];
        for (let c = 0; c < 3; c++) {
          spreadBefore += Math.abs(before[o + c * n + i] - y(before));
          spreadAfter += Math.abs(x[o + c * n + i] - y(x));
        }
        lumaDiff = Math.max(lumaDiff, Math.abs(y(x) - y(before)));
      }
      // 1-3x the colour; clipping at 0-1 takes a little back and moves luma a little
      expect(spreadAfter / spreadBefore).toBeGreaterThan(0.99);
      expect(spreadAfter / spreadBefore).toBeLessThan(3.01);
      expect(lumaDiff).toBeLessThan(0.15);
    }
    expect(changed / batch).toBeGreaterThan(0.24);
    expect(changed / batch).toBeLessThan(0.36);
  });
});
