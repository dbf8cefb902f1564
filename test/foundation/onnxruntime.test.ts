import { describe, expect, it } from 'vitest';
import { GraphBuilder, convAttrs } from '../../src/encoder/graph/builder.js';
import { decodeModel, encodeModel } from '../../src/encoder/graph/proto.js';
import { attrInts } from '../../src/encoder/graph/attrs.js';
import { createSession, ort } from '../../src/encoder/graph/session.js';

/** Direct 3x3 convolution, zero padding 1, for checking the runtime against plain arithmetic. */
function conv3x3(x: Float32Array, cin: number, h: number, w: number, wt: Float32Array, bias: Float32Array, cout: number): Float32Array {
  const y = new Float32Array(cout * h * w);
  for (let o = 0; o < cout; o++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++) {
        let s = bias[o];
        for (let c = 0; c < cin; c++)
          for (let ki = 0; ki < 3; ki++)
            for (let kj = 0; kj < 3; kj++) {
              const ii = i + ki - 1;
              const jj = j + kj - 1;
              if (ii < 0 || jj < 0 || ii >= h || jj >= w) continue;
              s += x[(c * h + ii) * w + jj] * wt[((o * cin + c) * 3 + ki) * 3 + kj];
            }
        y[(o * h + i) * w + j] = Math.max(0, s);
      }
  return y;
}

describe('onnxruntime-node', () => {
  it('runs a Conv+Relu model built in memory, with dynamic height and width', async () => {
    const g = new GraphBuilder('tiny');
    const cin = 3;
    const cout = 4;
    const wt = Float32Array.from({ length: cout * cin * 9 }, (_, i) => Math.sin(i * 1.7) * 0.3);
    const bias = Float32Array.from([0.1, -0.2, 0.05, 0]);
    g.input('x', [1, cin, 'H', 'W']);
    const y = g.op('Conv', ['x', g.initializer('w', wt, [cout, cin, 3, 3]), g.initializer('b', bias, [cout])], convAttrs(3));
    g.op('Relu', [y], {}, 'y');
    g.output('y', [1, cout, 'H', 'W']);
    const bytes = encodeModel(g.toModel());

    // every Conv carries explicit attributes (WebGPU in onnxruntime-web requires dilations)
    const conv = decodeModel(bytes).graph!.node!.find((n) => n.opType === 'Conv')!;
    for (const a of ['kernel_shape', 'strides', 'pads', 'dilations']) expect(attrInts(conv, a)).toBeDefined();

    const session = await createSession(bytes);
    for (const [h, w] of [
      [5, 7],
      [8, 3],
    ]) {
      const x = Float32Array.from({ length: cin * h * w }, (_, i) => Math.cos(i * 0.37));
      const res = await session.run({ x: new ort.Tensor('float32', x, [1, cin, h, w]) });
      const got = res.y.data as Float32Array;
      expect(res.y.dims).toEqual([1, cout, h, w]);
      const want = conv3x3(x, cin, h, w, wt, bias, cout);
      let maxErr = 0;
      for (let i = 0; i < want.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i] - want[i]));
      expect(maxErr).toBeLessThan(1e-5);
    }
    await session.release();
  });

  it('falls back to CPU with a warning when a provider is missing', async () => {
    const g = new GraphBuilder('id');
    g.input('x', [2]);
    g.op('Neg', ['x'], {}, 'y');
    g.output('y', [2]);
    const warnings: string[] = [];
    const s = await createSession(g.toModel(), { ep: 'cuda', onWarning: (m) => warnings.push(m) });
    const r = await s.run({ x: new ort.Tensor('float32', Float32Array.from([1, -2]), [2]) });
    expect(Array.from(r.y.data as Float32Array)).toEqual([-1, 2]);
    expect(warnings.join()).toMatch(/cuda.*CPU/);
  });
});
