import { describe, expect, it } from 'vitest';
import { runFfmpeg } from '../../src/encoder/media/ffmpeg.js';
import { GraphBuilder } from '../../src/encoder/graph/builder.js';
import { addChroma420 } from '../../src/encoder/graph/chroma.js';
import { createSession, ort } from '../../src/encoder/graph/session.js';
import type { RgbImage } from '../../src/shared/image.js';
import { imageToTensor, tensorToImage } from '../../src/shared/image.js';
import { realYuv420, rgbPsnr } from '../../src/train/proxycheck.js';
import { checkGradients } from './fd.js';

function chromaModel(reduce: boolean) {
  const g = new GraphBuilder('c420');
  const x = g.input('x', [1, 3, 'H', 'W']);
  const y = addChroma420(g, x, reduce ? undefined : 'y');
  if (reduce) {
    // a loss with a non-uniform weight per pixel, so every part of the Jacobian shows
    const w = g.input('w', [1, 3, 'H', 'W']);
    g.op('ReduceSum', [g.op('Mul', [g.op('Mul', [y, y]), w])], {}, 'y');
    g.output('y', []);
  } else g.output('y');
  return g.toModel();
}

/** Saturated colour detail at every scale: what 4:2:0 visibly loses. */
async function colourful(): Promise<RgbImage> {
  const { stdout } = await runFfmpeg(['-v', 'error', '-f', 'lavfi', '-i', 'mandelbrot=s=128x96:end_pts=1,hue=h=40:s=2', '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
  return { width: 128, height: 96, data: new Uint8Array(stdout.buffer, stdout.byteOffset, 128 * 96 * 3) };
}

describe('4:2:0 chroma stage', () => {
  it("keeps flat colour and luma, and loses what ffmpeg's 4:2:0 round trip loses", async () => {
    const sess = await createSession(chromaModel(false), { threads: 1 });
    const run = async (img: RgbImage) => {
      const r = await sess.run({ x: new ort.Tensor('float32', imageToTensor(img), [1, 3, img.height, img.width]) });
      return tensorToImage(r.y.data as Float32Array, img.width, img.height);
    };
    try {
      const flat: RgbImage = { width: 16, height: 8, data: new Uint8Array(16 * 8 * 3).map((_, i) => [200, 40, 90][i % 3]) };
      expect(rgbPsnr(flat, await run(flat))).toBeGreaterThan(60);
      const img = await colourful();
      const ours = await run(img);
      const theirs = await realYuv420(img);
      const lossOurs = rgbPsnr(img, ours);
      const lossReal = rgbPsnr(img, theirs);
      // a real loss (not the identity), of the size ffmpeg's conversion has ...
      expect(lossOurs).toBeLessThan(34);
      expect(Math.abs(lossOurs - lossReal)).toBeLessThan(2);
      // ... and much the same picture: the stage is far closer to ffmpeg's result than the input is
      expect(rgbPsnr(ours, theirs)).toBeGreaterThan(lossReal + 5);
    } finally {
      await sess.release();
    }
  }, 30_000);

  it('gradients agree with finite differences, edges included', async () => {
    const r = (() => {
      let s = 11;
      return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
    })();
    const n = 3 * 6 * 10;
    const x = Float32Array.from({ length: n }, () => r());
    const w = Float32Array.from({ length: n }, () => r() - 0.3);
    const res = await checkGradients(chromaModel(true), { wrt: ['x'], loss: { kind: 'scalar', output: 'y' } }, { x: { data: x, dims: [1, 3, 6, 10] }, w: { data: w, dims: [1, 3, 6, 10] } }, { eps: 1e-3, dirs: 4 });
    expect(res.relErr.x).toBeLessThan(1e-2);
  }, 30_000);
});
