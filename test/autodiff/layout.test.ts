import { describe, it } from 'vitest';
import { attr, type Dim, GraphBuilder } from '../../src/encoder/graph/builder.js';
import { expectGradientsMatch, feed, rng } from './fd.js';

/** Builds x → body → output, checks grad_x by finite differences. */
async function check(name: string, dims: Dim[], feedDims: number[], body: (b: GraphBuilder) => string, tol = 2e-2, opset = 17) {
  const b = new GraphBuilder(name);
  b.input('x', dims);
  const y = body(b);
  b.output(y);
  await expectGradientsMatch(b.toModel({ opset }), { wrt: ['x'], loss: { kind: 'mse', output: y } }, { x: feed(rng(name.length), feedDims) }, tol);
}

const X: Dim[] = ['N', 4, 'H', 'W'];
const XF = [2, 4, 6, 8];

describe('layout rules match finite differences', () => {
  it('Concat (with itself and a constant, negative axis)', () =>
    check('concat', X, XF, (b) => b.op('Concat', ['x', b.op('Sigmoid', ['x']), b.constF(new Array(2 * 4 * 6 * 3).fill(0.5), [2, 4, 6, 3])], { axis: attr.int(-1) })));
  it('Split with sizes, an unused output gets zero gradient', () =>
    check('split', X, XF, (b) => {
      const [s0, , s2] = b.node('Split', ['x', b.constI64([1, 2, 1])], { axis: attr.int(1) }, { outputs: 3 });
      return b.op('Concat', [b.op('Mul', [s0, b.constF([2], [])]), s2], { axis: attr.int(1) });
    }));
  it('Split into equal parts', () =>
    check('split2', X, XF, (b) => {
      const [s0, s1] = b.node('Split', ['x'], { axis: attr.int(2) }, { outputs: 2 });
      return b.op('Sub', [s0, b.op('Exp', [s1])]);
    }));
  it('Slice with negative and clamped starts/ends', () =>
    check('slice', X, XF, (b) => b.op('Slice', ['x', b.constI64([1, -5, 0]), b.constI64([3, 1000, -1]), b.constI64([1, -1, 2])])));
  it('Slice without axes input', () =>
    check('slice2', X, XF, (b) => b.op('Slice', ['x', b.constI64([1, 1]), b.constI64([2, 3])])));
  it('Reshape, Flatten, Transpose', () =>
    check('reshape', X, XF, (b) => {
      const r = b.op('Reshape', ['x', b.constI64([0, 2, -1])]);
      const t = b.op('Transpose', [r], { perm: attr.ints([2, 0, 1]) });
      return b.op('Flatten', [b.op('Tanh', [t])], { axis: attr.int(2) });
    }));
  it('Transpose without perm (reversal)', () => check('transpose', X, XF, (b) => b.op('Transpose', ['x'])));
  it('Squeeze and Unsqueeze', () =>
    check('squeeze', [2, 1, 'H', 'W'], [2, 1, 5, 3], (b) => {
      const s = b.op('Squeeze', ['x', b.constI64([1])]);
      return b.op('Unsqueeze', [b.op('Sigmoid', [s]), b.constI64([0, -1])]);
    }));
  for (const mode of ['DCR', 'CRD']) {
    it(`DepthToSpace ${mode}`, () =>
      check(`d2s${mode}`, ['N', 8, 'H', 'W'], [2, 8, 3, 5], (b) => b.op('DepthToSpace', ['x'], { blocksize: attr.int(2), mode: attr.string(mode) })));
  }
  it('DepthToSpace CRD with a channel count known only at run time', () =>
    check('d2sdyn', ['N', 'C', 'H', 'W'], [1, 12, 2, 3], (b) => b.op('DepthToSpace', ['x'], { blocksize: attr.int(2), mode: attr.string('CRD') })));
  it('SpaceToDepth', () => check('s2d', X, XF, (b) => b.op('SpaceToDepth', ['x'], { blocksize: attr.int(2) })));
  for (const mode of ['constant', 'reflect', 'edge']) {
    it(`Pad ${mode} (asymmetric, two axes)`, () =>
      check(`pad${mode}`, X, XF, (b) => b.op('Pad', ['x', b.constI64([0, 0, 2, 0, 0, 0, 1, 3])], { mode: attr.string(mode) })));
  }
  it('Expand', () => check('expand', [1, 4, 1, 'W'], [1, 4, 1, 5], (b) => b.op('Expand', ['x', b.constI64([2, 4, 3, 5])])));
});

describe('Resize (integer up-scales)', () => {
  const variants: [string, string, string, number[]][] = [
    ['nearest', 'half_pixel', 'round_prefer_floor', [2, 2]],
    ['nearest', 'asymmetric', 'floor', [3, 2]],
    ['nearest', 'pytorch_half_pixel', 'round_prefer_ceil', [4, 1]],
    ['linear', 'half_pixel', 'round_prefer_floor', [2, 2]],
    ['linear', 'pytorch_half_pixel', 'round_prefer_floor', [3, 4]],
    ['linear', 'asymmetric', 'round_prefer_floor', [2, 3]],
  ];
  for (const [mode, ctm, nm, [sh, sw]] of variants) {
    it(`${mode} ${ctm} x(${sh},${sw})`, () =>
      check(`resize${mode}${ctm}${sh}`, ['N', 3, 'H', 'W'], [2, 3, 5, 6], (b) =>
        b.op('Resize', ['x', '', b.constF([1, 1, sh, sw])], {
          mode: attr.string(mode),
          coordinate_transformation_mode: attr.string(ctm),
          nearest_mode: attr.string(nm),
        })));
  }
});

describe('reductions and products', () => {
  it('ReduceMean over H,W keepdims, then ReduceSum over C', () =>
    check('reduce', X, XF, (b) => {
      const m = b.op('ReduceMean', ['x'], { axes: attr.ints([2, 3]), keepdims: attr.int(1) });
      const s = b.op('ReduceSum', [b.op('Mul', ['x', m]), b.constI64([1])], { keepdims: attr.int(0) });
      return s;
    }));
  it('opset 18: ReduceMean with axes as an input, keepdims 0', () =>
    check('reduce18', X, XF, (b) => b.op('Sigmoid', [b.op('ReduceMean', ['x', b.constI64([1, -1])], { keepdims: attr.int(0) })]), 2e-2, 18));
  it('ReduceMean over everything, keepdims 0', () =>
    check('reduceall', X, XF, (b) => b.op('Add', [b.op('Tanh', ['x']), b.op('ReduceMean', [b.op('Exp', ['x'])], { keepdims: attr.int(0) })])));
  it('batched MatMul with broadcast weights', async () => {
    const b = new GraphBuilder('matmul');
    b.input('a', ['N', 2, 3, 4]);
    b.input('w', [4, 5]);
    const y = b.op('MatMul', ['a', 'w']);
    b.output(y);
    const r = rng(4);
    await expectGradientsMatch(b.toModel(), { wrt: ['a', 'w'], loss: { kind: 'mse', output: y } }, { a: feed(r, [2, 2, 3, 4]), w: feed(r, [4, 5]) });
  });
  for (const [tA, tB] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
    it(`Gemm transA=${tA} transB=${tB} alpha/beta`, async () => {
      const b = new GraphBuilder('gemm');
      const [m, k, n] = [3, 4, 5];
      b.input('a', tA ? [k, m] : [m, k]);
      b.input('bm', tB ? [n, k] : [k, n]);
      b.input('c', [n]);
      const y = b.op('Gemm', ['a', 'bm', 'c'], { alpha: attr.float(0.7), beta: attr.float(1.3), transA: attr.int(tA), transB: attr.int(tB) });
      b.output(y);
      const r = rng(tA * 2 + tB + 1);
      await expectGradientsMatch(b.toModel(), { wrt: ['a', 'bm', 'c'], loss: { kind: 'mse', output: y } }, {
        a: feed(r, tA ? [k, m] : [m, k]),
        bm: feed(r, tB ? [n, k] : [k, n]),
        c: feed(r, [n]),
      });
    });
  }
});
