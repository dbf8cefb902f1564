import { describe, expect, it } from 'vitest';
import { convAttrs, GraphBuilder } from '../../src/encoder/graph/builder.js';
import { bicubicPair } from '../../src/encoder/pairs/builtin.js';
import { PairNetwork } from '../../src/encoder/pairs/network.js';
import type { PairModels } from '../../src/encoder/pairs/types.js';
import { tensorToImage } from '../../src/shared/image.js';
import { tinyPair } from '../hcd/fixtures.js';

/** A x2 D that adds a one-channel extra input 'z' to every colour before a strided 2x2 mean. */
function noisyDown(): PairModels['downscaler'] {
  const g = new GraphBuilder('noisy_down');
  g.input('x', [1, 3, 'H', 'W']);
  g.input('z', [1, 1, 'H', 'W']);
  const sum = g.op('Add', ['x', g.op('Mul', ['z', g.constF([0.1], [])])]);
  const w = Array.from({ length: 3 * 3 * 4 }, (_, i) => (Math.floor(i / 12) === Math.floor(i / 4) % 3 ? 0.25 : 0));
  g.op('Conv', [sum, g.constF(w, [3, 3, 2, 2])], convAttrs(2, { stride: 2, pad: 0 }), 'y');
  g.output('y', [1, 3, 'h', 'w']);
  return g.toModel({ opset: 17 });
}

function withExtra(fill: 'zeros' | 'gaussian'): PairModels {
  const tiny = tinyPair();
  return { ...tiny, manifest: { ...tiny.manifest, extraInputs: [{ network: 'downscaler', name: 'z', fill, channels: 1 }] }, downscaler: noisyDown() };
}

const grey = (w: number, h: number) => ({ data: new Float32Array(3 * w * h).fill(0.5), width: w, height: h });

describe('PairNetwork', () => {
  it('feeds gaussian extra inputs seeded by the frame index, zeros the same on every frame', async () => {
    const noisy = await PairNetwork.down(withExtra('gaussian'), { threads: 1 });
    const a = await noisy.runPlanar(grey(16, 8), 3);
    expect([a.width, a.height]).toEqual([8, 4]);
    expect((await noisy.runPlanar(grey(16, 8), 3)).data).toEqual(a.data);
    expect((await noisy.runPlanar(grey(16, 8), 4)).data).not.toEqual(a.data);
    await noisy.close();
    const zeros = await PairNetwork.down(withExtra('zeros'), { threads: 1 });
    const z = await zeros.runPlanar(grey(16, 8), 3);
    for (const v of z.data) expect(v).toBeCloseTo(0.5, 6);
    await zeros.close();
  });

  it('refuses an output the scale does not promise, in one line', async () => {
    const tiny = tinyPair();
    const liar = { ...tiny, manifest: { ...tiny.manifest, id: 'liar-x4', scale: 4 } };
    const down = await PairNetwork.down(liar, { threads: 1 });
    await expect(down.runPlanar(grey(16, 16))).rejects.toThrow("model 'liar-x4' claims scale 4 but its downscaler turns 16x16 into 8x8, not 4x4 (mismatched scale)");
    await expect(down.runPlanar(grey(18, 16))).rejects.toThrow(/not divisible/);
    await down.close();
    const up = await PairNetwork.up(liar, '420', { threads: 1 });
    await expect(up.runPlanar(grey(4, 4))).rejects.toThrow(/its upscaler turns 4x4 into 8x8, not 16x16 \(mismatched scale\)/);
    await up.close();
  });

  it('upscales a lossless RGB LR with the still upscaler, decoded video with the streamed one', async () => {
    const tiny = tinyPair();
    const pair = { ...tiny, stillUpscaler: bicubicPair(2).upscaler };
    const lr = { data: Float32Array.from({ length: 3 * 8 * 8 }, (_, i) => (i % 7) / 7), width: 8, height: 8 };
    const run = async (p: PairModels, kind: 'rgb' | '420') => {
      const net = await PairNetwork.up(p, kind, { threads: 1 });
      const y = await net.runPlanar(lr);
      const rgb = await net.runRgb(tensorToImage(lr.data, 8, 8));
      await net.close();
      return { y, rgb };
    };
    const still = await run(pair, 'rgb');
    expect(still.y.data).toEqual((await run(bicubicPair(2), '420')).y.data);
    expect((await run(pair, '420')).y.data).toEqual((await run(tiny, 'rgb')).y.data);
    expect(still.y.data).not.toEqual((await run(pair, '420')).y.data);
    expect([still.rgb.width, still.rgb.height]).toEqual([16, 16]);
  });
});
