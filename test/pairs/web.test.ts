import * as ortw from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/encoder/graph/proto.js';
import { createSession, ort } from '../../src/encoder/graph/session.js';
import { resolvePair } from '../../src/encoder/pairs/index.js';

// The player runs the upscaler on onnxruntime-web; its WASM backend (which also runs in Node)
// must accept every built-in graph and agree with onnxruntime-node.
describe('built-in pairs on onnxruntime-web (wasm)', () => {
  for (const id of ['bicubic-x2', 'bicubic-x4', 'rdn-x2'])
    it(`${id} upscaler gives what onnxruntime-node gives`, async () => {
      ortw.env.wasm.numThreads = 1;
      const p = await resolvePair(id);
      const [h, w] = [10, 14];
      const x = Float32Array.from({ length: 3 * h * w }, (_, i) => ((i * 37) % 101) / 100);
      const sw = await ortw.InferenceSession.create(encodeModel(p.upscaler), { executionProviders: ['wasm'] });
      const yw = (await sw.run({ x: new ortw.Tensor('float32', x, [1, 3, h, w]) })).y;
      const sn = await createSession(p.upscaler, { threads: 1 });
      const yn = (await sn.run({ x: new ort.Tensor('float32', x, [1, 3, h, w]) })).y;
      const s = p.manifest.scale;
      expect(yw.dims).toEqual([1, 3, h * s, w * s]);
      const a = yw.data as Float32Array;
      const b = yn.data as Float32Array;
      let md = 0;
      for (let i = 0; i < a.length; i++) md = Math.max(md, Math.abs(a[i] - b[i]));
      expect(md).toBeLessThan(1e-4);
    });
});
