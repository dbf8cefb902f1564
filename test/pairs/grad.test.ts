import { describe, expect, it } from 'vitest';
import { buildGradientModel } from '../../src/encoder/graph/autodiff/index.js';
import { createSession, ort } from '../../src/encoder/graph/session.js';
import { resolvePair } from '../../src/encoder/pairs/index.js';

// HCD differentiates through D and U: every built-in network must go through the project's
// gradient engine, and its gradient must agree with finite differences.
describe('built-in pairs under the gradient engine', () => {
  for (const [id, net] of [
    ['bicubic-x2', 'downscaler'],
    ['bicubic-x4', 'upscaler'],
    ['rdn-x2', 'upscaler'],
  ] as const)
    it(`${id} ${net}: d(mse)/dx matches central differences`, async () => {
      const pair = await resolvePair(id);
      const model = pair[net];
      const s = pair.manifest.scale;
      const [h, w] = net === 'downscaler' ? [4 * s, 6 * s] : [6, 8];
      const [oh, ow] = net === 'downscaler' ? [h / s, w / s] : [h * s, w * s];
      const grad = await createSession(buildGradientModel(model, { wrt: ['x'], loss: { kind: 'mse', output: 'y' } }), { threads: 1 });
      const x = Float32Array.from({ length: 3 * h * w }, (_, i) => 0.2 + 0.6 * (((i * 37) % 101) / 100));
      const target = new ort.Tensor('float32', Float32Array.from({ length: 3 * oh * ow }, (_, i) => 0.5 + 0.3 * Math.sin(i * 0.7)), [1, 3, oh, ow]);
      const run = async (xv: Float32Array) => grad.run({ x: new ort.Tensor('float32', xv, [1, 3, h, w]), target });
      const base = await run(x);
      const g = base.grad_x.data as Float32Array;
      expect(base.grad_x.dims).toEqual([1, 3, h, w]);
      const eps = 1e-2;
      let checked = 0;
      for (const i of [0, 5, w + 3, h * w + 2 * w + 1, 3 * h * w - 1, Math.floor(1.5 * h * w)]) {
        const xp = x.slice();
        const xm = x.slice();
        xp[i] += eps;
        xm[i] -= eps;
        const fd = (((await run(xp)).loss.data as Float32Array)[0] - ((await run(xm)).loss.data as Float32Array)[0]) / (2 * eps);
        expect(Math.abs(fd - g[i])).toBeLessThan(2e-3 * Math.max(1e-3, Math.abs(g[i])) + 2e-5);
        checked++;
      }
      expect(checked).toBe(6);
      expect(Math.max(...Array.from(g, Math.abs))).toBeGreaterThan(1e-5);
    });
});
