import { describe, expect, it } from 'vitest';
import { runFfmpeg } from '../../src/encoder/media/ffmpeg.js';
import { GraphBuilder } from '../../src/encoder/graph/builder.js';
import { createSession, ort } from '../../src/encoder/graph/session.js';
import { addRateProxy } from '../../src/train/codec.js';
import { buildObjective } from '../../src/train/graph.js';
import { initPair } from '../../src/train/nets.js';
import { realX264 } from '../../src/train/proxycheck.js';
import { Rng } from '../../src/shared/rng.js';
import { imageToTensor, type RgbImage } from '../../src/shared/image.js';
import { checkGradients } from '../autodiff/fd.js';
import { cropInto } from '../../src/train/data.js';
import { genImage, TINY } from './helpers.js';

async function mandelbrot(blur: number): Promise<RgbImage> {
  const vf = blur > 0 ? ['-vf', `gblur=sigma=${blur}`] : [];
  const { stdout } = await runFfmpeg(['-v', 'error', '-f', 'lavfi', '-i', 'mandelbrot=s=192x128:end_pts=1', ...vf, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
  return { width: 192, height: 128, data: new Uint8Array(stdout.buffer, stdout.byteOffset, 192 * 128 * 3) };
}

describe('rate proxy', () => {
  it('orders pictures by what x264 spends on them, and costs nothing on a flat one', async () => {
    const g = new GraphBuilder('rate');
    addRateProxy(g, g.input('x', [1, 3, 'H', 'W']), 'rate');
    g.output('rate', []);
    const sess = await createSession(g.toModel(), { threads: 1 });
    const rate = async (img: RgbImage) => ((await sess.run({ x: new ort.Tensor('float32', imageToTensor(img), [1, 3, img.height, img.width]) })).rate.data as Float32Array)[0];
    const rows: { rate: number; bytes: number }[] = [];
    for (const blur of [0, 0.7, 1.5, 3]) {
      const img = await mandelbrot(blur);
      rows.push({ rate: await rate(img), bytes: (await realX264(img, 30)).bytes });
    }
    for (let i = 1; i < rows.length; i++) {
      expect(rows[i].bytes).toBeLessThan(rows[i - 1].bytes);
      expect(rows[i].rate).toBeLessThan(rows[i - 1].rate);
    }
    // in log terms the proxy moves more than the bytes here (3.7x: x264's bytes have a floor of
    // headers and prediction modes), less on the LR of two pairs (0.6x, docs/models.md)
    const relRate = Math.log(rows[0].rate / rows[3].rate);
    const relBytes = Math.log(rows[0].bytes / rows[3].bytes);
    expect(relRate / relBytes).toBeGreaterThan(0.25);
    expect(relRate / relBytes).toBeLessThan(5);
    const flat: RgbImage = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3).fill(100) };
    expect(Math.abs(await rate(flat))).toBeLessThan(1e-6);
    await sess.release();
  }, 30_000);

  it('weight gradients of the objective with the rate term agree with finite differences', async () => {
    const rng = new Rng(8);
    const p = initPair(TINY, rng);
    for (const v of p.values()) for (let i = 0; i < v.data.length; i++) v.data[i] += 0.05 * rng.normal();
    const model = buildObjective(p, TINY, 0.5, { smooth: true, chroma: '420', rateWeight: 0.05 });
    const P = 16;
    const x = new Float32Array(2 * 3 * P * P);
    const img = genImage(40, 40);
    cropInto(img, 3, 5, P, 0, x, 0);
    cropInto(img, 11, 2, P, 5, x, 3 * P * P);
    const wrt = [...p.keys()];
    const res = await checkGradients(
      model,
      { wrt, loss: { kind: 'scalar', output: 'objective' } },
      { x: { data: x, dims: [2, 3, P, P] }, steps: { data: new Float32Array(2 * 192).fill(1e-6), dims: [2, 192, 1, 1] } },
      { eps: 2e-4, dirs: 3 },
    );
    for (const w of wrt) expect(res.relErr[w], w).toBeLessThan(0.05);
    // and the term is really in the objective: the D weights' gradient changes with it
    const without = buildObjective(p, TINY, 0.5, { smooth: true, chroma: '420' });
    const run = async (m: typeof model) => {
      const s = await createSession(m, { threads: 1 });
      const r = await s.run({ x: new ort.Tensor('float32', x, [2, 3, P, P]), steps: new ort.Tensor('float32', new Float32Array(2 * 192).fill(1e-6), [2, 192, 1, 1]) });
      await s.release();
      return r;
    };
    const a = await run(model);
    const b = await run(without);
    expect((a.rate.data as Float32Array)[0]).toBeGreaterThan(0);
    expect((a.objective.data as Float32Array)[0] - (b.objective.data as Float32Array)[0]).toBeCloseTo(0.05 * (a.rate.data as Float32Array)[0], 6);
  }, 60_000);
});
