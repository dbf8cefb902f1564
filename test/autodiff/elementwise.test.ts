import { describe, expect, it } from 'vitest';
import { attr, type AttrValue, GraphBuilder } from '../../src/encoder/graph/builder.js';
import { expectGradientsMatch, feed, type Feed, rng, runModel } from './fd.js';

const SHAPE = [2, 3, 4, 5];

function positive(f: Feed, lo = 0.5): Feed {
  return { data: f.data.map((v) => Math.abs(v) + lo), dims: f.dims };
}

/** x → op(x, ...consts) → output. */
function unaryModel(op: string, attrs: Record<string, AttrValue> = {}, extra: (b: GraphBuilder) => string[] = () => []) {
  const b = new GraphBuilder(op);
  b.input('x', ['N', 3, 'H', 'W']);
  const y = b.op(op, ['x', ...extra(b)], attrs);
  b.output(y);
  return { model: b.toModel(), y };
}

describe('unary rules match finite differences', () => {
  const cases: { op: string; attrs?: Record<string, AttrValue>; extra?: (b: GraphBuilder) => string[]; pos?: boolean }[] = [
    { op: 'Relu' },
    { op: 'LeakyRelu', attrs: { alpha: attr.float(0.2) } },
    { op: 'Sigmoid' },
    { op: 'Tanh' },
    { op: 'Exp' },
    { op: 'Log', pos: true },
    { op: 'Atan' },
    { op: 'Sqrt', pos: true },
    { op: 'Abs' },
    { op: 'Neg' },
    { op: 'Identity' },
    { op: 'Cast', attrs: { to: attr.int(1) } },
    { op: 'Pow', pos: true, extra: (b) => [b.constF([3], [])] },
    { op: 'Pow', pos: true, extra: (b) => [b.constF([2], [])] },
    { op: 'Pow', pos: true, extra: (b) => [b.constF([0.5, 1.5, 2.5], [3, 1, 1])] },
    { op: 'Clip', extra: (b) => [b.constF([-0.5], []), b.constF([0.7], [])] },
    { op: 'Clip', extra: (b) => ['', b.constF([0.3], [])] },
  ];
  for (const [i, c] of cases.entries()) {
    it(`${c.op} #${i}`, async () => {
      const { model, y } = unaryModel(c.op, c.attrs, c.extra);
      const r = rng(i + 1);
      const x = feed(r, SHAPE);
      await expectGradientsMatch(model, { wrt: ['x'], loss: { kind: 'mse', output: y } }, { x: c.pos ? positive(x) : x }, 2e-2, { eps: 1e-3 });
    });
  }

  it('Relu on a tensor without a static channel count (cast-comparison mask)', async () => {
    const b = new GraphBuilder('relu2d');
    b.input('x', ['M', 'K']);
    const y = b.op('Relu', ['x']);
    b.output(y);
    const m = b.toModel();
    const { buildGradientModel } = await import('../../src/encoder/graph/autodiff/index.js');
    const ops = buildGradientModel(m, { wrt: ['x'], loss: { kind: 'mse', output: y } }).graph!.node!.map((n) => n.opType);
    expect(ops).toContain('Greater');
    await expectGradientsMatch(m, { wrt: ['x'], loss: { kind: 'mse', output: y } }, { x: feed(rng(12), [6, 7]) }, 2e-2, { eps: 1e-3 });
  });

  it('PRelu: input and per-channel slope gradients', async () => {
    const b = new GraphBuilder('prelu');
    b.input('x', ['N', 3, 'H', 'W']);
    b.initializer('slope', Float32Array.from([0.1, -0.3, 0.5]), [3, 1, 1]);
    const y = b.op('PRelu', ['x', 'slope']);
    b.output(y);
    await expectGradientsMatch(b.toModel(), { wrt: ['x', 'slope'], loss: { kind: 'mse', output: y } }, { x: feed(rng(3), SHAPE) }, 2e-2, { eps: 1e-3 });
  });
});

describe('broadcasting arithmetic sums each gradient back to its input shape', () => {
  const shapes: [string, number[], number[]][] = [
    ['same shape', [2, 3, 4, 5], [2, 3, 4, 5]],
    ['per-channel', [2, 3, 4, 5], [3, 1, 1]],
    ['scalar', [2, 3, 4, 5], []],
    ['both broadcast', [2, 1, 4, 1], [1, 3, 1, 5]],
    ['rank 2 vs rank 4', [4, 5], [2, 3, 1, 5]],
  ];
  for (const op of ['Add', 'Sub', 'Mul', 'Div']) {
    for (const [name, sa, sb] of shapes) {
      it(`${op}: ${name}`, async () => {
        const b = new GraphBuilder(op);
        // symbolic dims where the tensor is not broadcast, so the run-time path is exercised too
        b.input('a', sa.map((d, i) => (d === 1 || i === 0 ? d : `a${i}`)));
        b.input('b', sb);
        const y = b.op(op, ['a', 'b']);
        b.output(y);
        const r = rng(sa.length * 10 + sb.length);
        const fb = feed(r, sb);
        // keep the divisor away from zero
        const bv = op === 'Div' ? { data: fb.data.map((v) => Math.sign(v || 1) * (Math.abs(v) + 1)), dims: sb } : fb;
        await expectGradientsMatch(b.toModel(), { wrt: ['a', 'b'], loss: { kind: 'mse', output: y } }, { a: feed(r, sa), b: bv });
      });
    }
  }

  it('the same tensor used twice accumulates both gradients (x·x + x)', async () => {
    const b = new GraphBuilder('twice');
    b.input('x', [3, 4]);
    const y = b.op('Add', [b.op('Mul', ['x', 'x']), 'x']);
    b.output(y);
    await expectGradientsMatch(b.toModel(), { wrt: ['x'], loss: { kind: 'mse', output: y } }, { x: feed(rng(9), [3, 4]) });
  });
});

describe('straight-through rounding', () => {
  for (const op of ['Round', 'Floor']) {
    it(`${op} passes the gradient through unchanged (8-bit quantisation between D and U)`, async () => {
      // y = op(255·x) / 255, loss = mean (y − t)²  ⇒  STE gradient = 2(y − t)/N exactly.
      const b = new GraphBuilder('q');
      b.input('x', [1, 3, 'H', 'W']);
      const q = b.op(op, [b.op('Mul', ['x', b.constF([255], [])])]);
      const y = b.op('Div', [q, b.constF([255], [])]);
      b.output(y);
      const r = rng(2);
      const x = feed(r, [1, 3, 4, 6], 0.3);
      const t = feed(r, [1, 3, 4, 6], 0.3);
      const { buildGradientModel } = await import('../../src/encoder/graph/autodiff/index.js');
      const gm = buildGradientModel(b.toModel(), { wrt: ['x'], loss: { kind: 'mse', output: y } });
      const res = await runModel(gm, { x, target: t });
      const n = x.data.length;
      const round = op === 'Round' ? (v: number) => Math.round(v) : Math.floor;
      // ONNX Round is half-to-even; random floats never land exactly on .5.
      const expected = Array.from(x.data, (v, i) => (2 * (round(Math.fround(v * 255)) / 255 - t.data[i])) / n);
      const got = Array.from(res.grad_x.data);
      for (let i = 0; i < n; i++) expect(got[i]).toBeCloseTo(expected[i], 6);
      // the gradient is not the (zero) true derivative
      expect(got.some((v) => Math.abs(v) > 1e-4)).toBe(true);
    });
  }
});
