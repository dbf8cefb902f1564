import { attrFloat, attrInt, attrInts, attrString } from '../attrs.js';
import { attr } from '../builder.js';
import { biasGrad, convInputGrad, convParams, convWeightGrad } from './conv.js';
import { type VjpContext, type VjpRule } from './emit.js';
import { UnsupportedOpError } from './errors.js';
import { padGrad, resizeGrad, sliceGrad } from './layout.js';

/**
 * The VJP rule registry: one entry per op, in the spirit of PyTorch's derivatives.yaml. A rule
 * returns dL/d(input i) for each input whose `needs(i)` holds, built from dL/d(output) and the
 * forward tensors (which are reused, never recomputed). Adding an op = one entry here + one
 * finite-difference test in test/autodiff/.
 */

/** Elementwise op of one input: dx = f(ctx, g). */
function unary(f: (c: VjpContext, g: string) => string): VjpRule {
  return { diff: [0], vjp: (c) => [f(c, c.gradOut())] };
}

const x0 = (c: VjpContext) => c.inputs[0];
const y0 = (c: VjpContext) => c.outputs[0];

/** Reduce-op axes: an attribute before opset 18 (13 for ReduceSum), an input after. */
function reduceAxes(c: VjpContext): number[] | undefined {
  const a = attrInts(c.node, 'axes');
  if (a) return a;
  if (!c.inputs[1]) return undefined;
  const v = c.e.info.constNumbers(c.inputs[1]);
  if (!v) throw new UnsupportedOpError(c.node.opType ?? '', c.label, 'axes computed at run time');
  return v;
}

function reduceGrad(c: VjpContext, mean: boolean): string {
  const { e } = c;
  const axes = reduceAxes(c);
  let g = c.gradOut();
  if (!axes?.length && attrInt(c.node, 'noop_with_empty_axes', 0)) return g;
  if (!attrInt(c.node, 'keepdims', 1) && axes?.length) g = e.op('Unsqueeze', [g, e.i64(axes)]);
  g = e.op('Expand', [g, e.shape(x0(c))]);
  if (!mean) return g;
  const count = e.op('Div', [e.castFloat(e.op('Size', [x0(c)])), e.castFloat(e.op('Size', [y0(c)]))]);
  return e.op('Div', [g, count]);
}

/** Swaps the last two axes (MatMul operands). */
function mT(c: VjpContext, t: string): string {
  const r = c.rankOf(t);
  if (r === undefined || r < 2) throw new UnsupportedOpError('MatMul', c.label, 'operands must have known rank ≥ 2');
  const perm = [...Array(r).keys()];
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return c.e.op('Transpose', [t], { perm: attr.ints(perm) });
}

function depthToSpaceCrdGrad(c: VjpContext, b: number): string {
  const { e } = c;
  const x = x0(c);
  const g = c.gradOut();
  const channels = e.info.channelsOf(x);
  if (channels !== undefined) {
    // SpaceToDepth yields DCR channel order ((i·b+j)·C + c); gather it into CRD order (c·b² + i·b + j).
    const bb = b * b;
    const cc = channels / bb;
    const idx = Array.from({ length: channels }, (_, q) => (q % bb) * cc + Math.floor(q / bb));
    return e.op('Gather', [e.op('SpaceToDepth', [g], { blocksize: attr.int(b) }), e.i64(idx)], { axis: attr.int(1) });
  }
  const ch = e.op('Div', [e.dims(x, 1, 2), e.i64([b * b])]);
  const target = e.op('Concat', [e.dims(x, 0, 1), ch, e.dims(x, 2, 3), e.i64([b]), e.dims(x, 3, 4), e.i64([b])], { axis: attr.int(0) });
  const r = e.op('Reshape', [g, target]);
  return e.reshapeLike(e.op('Transpose', [r], { perm: attr.ints([0, 1, 3, 5, 2, 4]) }), x);
}

/** Step mask 1[y > 0] as tanh(BIG·y) for y ≥ 0: exact (tanh rounds to 1) for y > 1e-29. */
const RELU_MASK_GAIN = 1e30;

/**
 * Relu backward g·1[y > 0], reusing the forward output y. With a static channel count the mask is
 * a depthwise 1×1 Conv with a fused Tanh, and g, mask and y are annotated with one symbolic shape:
 * ORT then keeps the whole backward chain in its blocked NCHWc layout instead of reordering
 * around every comparison (5–20% less gradient time in bench/grad.ts). Otherwise Mul by a cast
 * comparison, which measured faster than Where on ORT CPU.
 */
function reluGrad(c: VjpContext, g: string): string {
  const { e } = c;
  const y = y0(c);
  const ch = c.rankOf(y) === 4 ? e.info.channelsOf(y) : undefined;
  if (ch === undefined) return e.mul(g, e.castFloat(e.op('Greater', [y, e.f(0)])));
  const w = e.b.constF(new Float32Array(ch).fill(RELU_MASK_GAIN), [ch, 1, 1, 1], 'relu_mask_gain');
  const scaled = e.op('Conv', [y, w], {
    kernel_shape: attr.ints([1, 1]),
    strides: attr.ints([1, 1]),
    pads: attr.ints([0, 0, 0, 0]),
    dilations: attr.ints([1, 1]),
    group: attr.int(ch),
  });
  const mask = e.annotate(e.op('Tanh', [e.annotate(scaled, y)]), y);
  e.annotate(g, y);
  e.annotate(y, y);
  return e.annotate(e.mul(g, mask), y);
}

const passThrough = unary((_c, g) => g);
const reshapeBack = unary((c, g) => c.e.reshapeLike(g, x0(c)));

export const rules: Record<string, VjpRule> = {
  // --- convolutions ---
  Conv: {
    diff: [0, 1, 2],
    vjp(c) {
      const { e } = c;
      const [x, w] = c.inputs;
      const g = c.gradOut();
      const p = convParams(e, c.node, c.label, w);
      const wDims = e.info.dims.get(w);
      return [
        c.needs(0) ? convInputGrad(e, g, x, w, p, c.label) : undefined,
        c.needs(1) ? convWeightGrad(e, x, g, p, wDims, c.label) : undefined,
        c.needs(2) ? biasGrad(e, g, p) : undefined,
      ];
    },
  },
  ConvTranspose: {
    diff: [0, 1, 2],
    vjp(c) {
      const { e } = c;
      const [x, w] = c.inputs;
      const g = c.gradOut();
      if (attrInts(c.node, 'output_shape')) throw new UnsupportedOpError('ConvTranspose', c.label, 'output_shape attribute');
      const p = convParams(e, c.node, c.label, w);
      const attrs = {
        kernel_shape: attr.ints(p.k),
        strides: attr.ints(p.strides),
        pads: attr.ints([...p.pb, ...p.pe]),
        dilations: attr.ints(p.dilations),
        group: attr.int(p.group),
      };
      // ConvTranspose is the adjoint of Conv with the same weight, so its input grad is that Conv.
      return [
        c.needs(0) ? e.op('Conv', [g, w], attrs) : undefined,
        c.needs(1) ? convWeightGrad(e, g, x, p, e.info.dims.get(w), c.label) : undefined,
        c.needs(2) ? biasGrad(e, g, p) : undefined,
      ];
    },
  },

  // --- activations (reuse forward outputs where the derivative is a function of y) ---
  Relu: unary(reluGrad),
  LeakyRelu: unary((c, g) =>
    c.e.where(c.e.op('Greater', [x0(c), c.e.f(0)]), g, c.e.mul(g, c.e.f(attrFloat(c.node, 'alpha', 0.01))))),
  PRelu: {
    diff: [0, 1],
    vjp(c) {
      const { e } = c;
      const [x, slope] = c.inputs;
      const g = c.gradOut();
      const pos = e.op('Greater', [x, e.f(0)]);
      return [
        c.needs(0) ? e.unbroadcast(e.where(pos, g, e.mul(g, slope)), x, y0(c), [slope]) : undefined,
        c.needs(1) ? e.unbroadcast(e.where(pos, e.f(0), e.mul(g, x)), slope, y0(c), [x]) : undefined,
      ];
    },
  },
  Sigmoid: unary((c, g) => c.e.mul(g, c.e.mul(y0(c), c.e.op('Sub', [c.e.f(1), y0(c)])))),
  Tanh: unary((c, g) => c.e.mul(g, c.e.op('Sub', [c.e.f(1), c.e.mul(y0(c), y0(c))]))),
  Exp: unary((c, g) => c.e.mul(g, y0(c))),
  Log: unary((c, g) => c.e.op('Div', [g, x0(c)])),
  Atan: unary((c, g) => c.e.op('Div', [g, c.e.op('Add', [c.e.f(1), c.e.mul(x0(c), x0(c))])])),
  Sqrt: unary((c, g) => c.e.op('Div', [c.e.mul(g, c.e.f(0.5)), y0(c)])),
  Abs: unary((c, g) => c.e.mul(g, c.e.op('Sign', [x0(c)]))),
  Neg: unary((c, g) => c.e.neg(g)),
  Pow: {
    diff: [0, 1],
    vjp(c) {
      const { e } = c;
      if (c.needs(1)) throw new UnsupportedOpError('Pow', c.label, 'only a constant exponent is supported');
      const [x, p] = c.inputs;
      const pv = e.info.constNumbers(p);
      const g = c.gradOut();
      if (pv && pv.length === 1) {
        const k = pv[0];
        const d = k === 2 ? e.mul(x, e.f(2)) : e.mul(e.f(k), e.op('Pow', [x, e.f(k - 1)]));
        return [e.mul(g, d)];
      }
      const d = e.mul(p, e.op('Pow', [x, e.op('Sub', [p, e.f(1)])]));
      return [e.unbroadcast(e.mul(g, d), x, y0(c), [p])];
    },
  },
  Clip: unary((c, g) => {
    const { e } = c;
    const [x, lo, hi] = c.inputs;
    let cond: string | undefined;
    if (lo) cond = e.op('GreaterOrEqual', [x, lo]);
    if (hi) {
      const le = e.op('LessOrEqual', [x, hi]);
      cond = cond ? e.op('And', [cond, le]) : le;
    }
    return cond ? e.where(cond, g, e.f(0)) : g;
  }),
  // Quantisation between D and U is differentiated straight-through, as in IRN/HCD.
  Round: passThrough,
  Floor: passThrough,
  Identity: passThrough,
  // Only float→float casts are on a gradient path (casts to ints stop it; see index.ts).
  Cast: passThrough,

  // --- broadcasting arithmetic ---
  Add: {
    diff: [0, 1],
    vjp: (c) => c.inputs.map((t, i) => (c.needs(i) ? c.e.unbroadcast(c.gradOut(), t, y0(c), [c.inputs[1 - i]]) : undefined)),
  },
  Sub: {
    diff: [0, 1],
    vjp(c) {
      const g = c.gradOut();
      return [
        c.needs(0) ? c.e.unbroadcast(g, c.inputs[0], y0(c), [c.inputs[1]]) : undefined,
        c.needs(1) ? c.e.unbroadcast(c.e.neg(g), c.inputs[1], y0(c), [c.inputs[0]]) : undefined,
      ];
    },
  },
  Mul: {
    diff: [0, 1],
    vjp(c) {
      const [a, b] = c.inputs;
      const g = c.gradOut();
      return [
        c.needs(0) ? c.e.unbroadcast(c.e.mul(g, b), a, y0(c), [b]) : undefined,
        c.needs(1) ? c.e.unbroadcast(c.e.mul(g, a), b, y0(c), [a]) : undefined,
      ];
    },
  },
  Div: {
    diff: [0, 1],
    vjp(c) {
      const { e } = c;
      const [a, b] = c.inputs;
      const g = c.gradOut();
      const ga = e.op('Div', [g, b]);
      return [
        c.needs(0) ? e.unbroadcast(ga, a, y0(c), [b]) : undefined,
        // d(a/b)/db = -a/b² = -(y/b)
        c.needs(1) ? e.unbroadcast(e.neg(e.mul(ga, y0(c))), b, y0(c), [a]) : undefined,
      ];
    },
  },
  Expand: { diff: [0], vjp: (c) => [c.e.unbroadcast(c.gradOut(), x0(c), y0(c))] },

  // --- layout ---
  Reshape: { diff: [0], vjp: reshapeBack.vjp },
  Flatten: reshapeBack,
  Squeeze: { diff: [0], vjp: reshapeBack.vjp },
  Unsqueeze: { diff: [0], vjp: reshapeBack.vjp },
  Transpose: unary((c, g) => {
    const perm = attrInts(c.node, 'perm');
    if (!perm) return c.e.op('Transpose', [g]); // reversal is its own inverse
    const inv = Array<number>(perm.length);
    perm.forEach((p, i) => (inv[p] = i));
    return c.e.op('Transpose', [g], { perm: attr.ints(inv) });
  }),
  Concat: {
    diff: 'all',
    vjp(c) {
      const { e } = c;
      const axis = attrInt(c.node, 'axis', 0);
      const sizes = e.op('Concat', c.inputs.map((t) => e.dims(t, axis, axis + 1)), { axis: attr.int(0) });
      const parts = e.b.node('Split', [c.gradOut(), sizes], { axis: attr.int(axis) }, { outputs: c.inputs.length });
      return parts.map((p, i) => (c.needs(i) ? p : undefined));
    },
  },
  Split: {
    diff: [0],
    vjp(c) {
      const grads = c.outputs.map((_, i) => c.gradOut(i));
      return [c.e.op('Concat', grads, { axis: attr.int(attrInt(c.node, 'axis', 0)) })];
    },
  },
  Slice: { diff: [0], vjp: (c) => [sliceGrad(c)] },
  Pad: { diff: [0], vjp: (c) => [padGrad(c)] },
  Resize: { diff: [0], vjp: (c) => [resizeGrad(c)] },
  DepthToSpace: unary((c, g) => {
    const b = attrInt(c.node, 'blocksize', 0);
    // SpaceToDepth is exactly the inverse permutation of DCR DepthToSpace.
    if (attrString(c.node, 'mode', 'DCR') === 'DCR') return c.e.op('SpaceToDepth', [g], { blocksize: attr.int(b) });
    return depthToSpaceCrdGrad(c, b);
  }),
  SpaceToDepth: unary((c, g) =>
    c.e.op('DepthToSpace', [g], { blocksize: attr.int(attrInt(c.node, 'blocksize', 0)), mode: attr.string('DCR') })),

  // --- reductions and products ---
  ReduceSum: { diff: [0], vjp: (c) => [reduceGrad(c, false)] },
  ReduceMean: { diff: [0], vjp: (c) => [reduceGrad(c, true)] },
  MatMul: {
    diff: [0, 1],
    vjp(c) {
      const { e } = c;
      const [a, b] = c.inputs;
      const g = c.gradOut();
      return [
        c.needs(0) ? e.unbroadcast(e.op('MatMul', [g, mT(c, b)]), a, y0(c)) : undefined,
        c.needs(1) ? e.unbroadcast(e.op('MatMul', [mT(c, a), g]), b, y0(c)) : undefined,
      ];
    },
  },
  Gemm: {
    diff: [0, 1, 2],
    vjp(c) {
      const { e } = c;
      const [a, b, cc] = c.inputs;
      const g = c.gradOut();
      const alpha = attrFloat(c.node, 'alpha', 1);
      const beta = attrFloat(c.node, 'beta', 1);
      const tA = attrInt(c.node, 'transA', 0);
      const tB = attrInt(c.node, 'transB', 0);
      const gemm = (p: string, q: string, ta: number, tb: number) =>
        e.op('Gemm', [p, q], { alpha: attr.float(alpha), transA: attr.int(ta), transB: attr.int(tb) });
      return [
        c.needs(0) ? (tA ? gemm(b, g, tB, 1) : gemm(g, b, 0, tB ? 0 : 1)) : undefined,
        c.needs(1) ? (tB ? gemm(g, a, 1, tA) : gemm(a, g, tA ? 0 : 1, 0)) : undefined,
        c.needs(2) ? e.unbroadcast(beta === 1 ? g : e.mul(g, e.f(beta)), cc, y0(c)) : undefined,
      ];
    },
  },
};
