import { describe, expect, it } from 'vitest';
import { buildGradientModel, UnsupportedOpError } from '../../src/encoder/graph/autodiff/index.js';
import { attr, convAttrs, GraphBuilder, valueInfo } from '../../src/encoder/graph/builder.js';
import { decodeModel, encodeModel, type ModelProto } from '../../src/encoder/graph/proto.js';
import { tensorToProto } from '../../src/encoder/graph/tensor.js';
import { checkGradients, expectGradientsMatch, feed, randn, rng, runModel } from './fd.js';

/** Haar wavelet as a fixed stride-2 depthwise Conv: 4 sub-bands per channel (LL, HL, LH, HH). */
function haarWeight(c: number): Float32Array {
  const bands = [
    [1, 1, 1, 1],
    [1, -1, 1, -1],
    [1, 1, -1, -1],
    [1, -1, -1, 1],
  ];
  const w = new Float32Array(c * 4 * 4);
  for (let ch = 0; ch < c; ch++) for (let k = 0; k < 4; k++) for (let t = 0; t < 4; t++) w[(ch * 4 + k) * 4 + t] = bands[k][t] / 2;
  return w;
}

/**
 * An IRN-style invertible downscaling block followed by a tiny upscaler: Haar → split →
 * additive and affine coupling (dense conv blocks with LeakyRelu+Concat, Sigmoid, Exp) →
 * 8-bit quantisation of the LR image (Round, or Identity for finite differences) → x2 upscaler.
 */
function irnBlock(quant: 'Round' | 'Identity'): ModelProto {
  const r = rng(77);
  const b = new GraphBuilder('irn');
  b.input('x', [1, 3, 'H', 'W']);
  const w = (name: string, dims: number[], scale = 0.2) => b.initializer(name, randn(r, dims.reduce((a, v) => a * v, 1), scale), dims);
  b.initializer('haar', haarWeight(3), [12, 1, 2, 2]);
  const h = b.op('Conv', ['x', 'haar'], convAttrs(2, { stride: 2, pad: 0, group: 3 }));
  const [x1, x2] = b.node('Split', [h, b.constI64([3, 9])], { axis: attr.int(1) }, { outputs: 2 });
  const dense = (input: string, cin: number, cout: number, p: string) => {
    const a = b.op('LeakyRelu', [b.op('Conv', [input, w(`${p}_w1`, [4, cin, 3, 3]), w(`${p}_b1`, [4])], convAttrs(3))], { alpha: attr.float(0.2) });
    const cat = b.op('Concat', [input, a], { axis: attr.int(1) });
    return b.op('Conv', [cat, w(`${p}_w2`, [cout, cin + 4, 3, 3])], convAttrs(3));
  };
  const y1 = b.op('Add', [x1, dense(x2, 9, 3, 'phi')]);
  const s = b.op('Mul', [b.constF([0.5], []), b.op('Sub', [b.op('Mul', [b.constF([2], []), b.op('Sigmoid', [dense(y1, 3, 9, 'rho')])]), b.constF([1], [])])]);
  const y2 = b.op('Add', [b.op('Mul', [x2, b.op('Exp', [s])]), dense(y1, 3, 9, 'eta')]);
  const lr = b.op('Div', [b.op(quant, [b.op('Mul', [y1, b.constF([255], [])])]), b.constF([255], [])]);
  const up = b.op('Conv', [b.op('Concat', [lr, y2], { axis: attr.int(1) }), w('up_w', [12, 12, 3, 3]), w('up_b', [12])], convAttrs(3));
  b.output(b.op('DepthToSpace', [up], { blocksize: attr.int(2), mode: attr.string('CRD') }), [1, 3, 'H', 'W']);
  return b.toModel();
}

const outOf = (m: ModelProto) => m.graph!.output![0].name!;

describe('composite models', () => {
  it('IRN-style block: input and weight gradients match finite differences (quantiser as identity)', async () => {
    const m = irnBlock('Identity');
    await expectGradientsMatch(m, { wrt: ['x', 'phi_w1', 'rho_w2', 'eta_b1', 'up_w'], loss: { kind: 'mse', output: outOf(m) } }, { x: feed(rng(1), [1, 3, 8, 10], 0.5) }, 2e-2, { eps: 3e-4 });
  });

  it('IRN-style block with Round: straight-through gradient stays close to the unquantised one', async () => {
    const x = { x: feed(rng(1), [1, 3, 8, 10], 0.5) };
    const ident = await checkGradients(irnBlock('Identity'), { wrt: ['x'], loss: { kind: 'mse', output: outOf(irnBlock('Identity')) } }, x, { dirs: 1 });
    const round = await checkGradients(irnBlock('Round'), { wrt: ['x'], loss: { kind: 'mse', output: outOf(irnBlock('Round')) } }, x, { dirs: 1 });
    const a = ident.grads.x.data;
    const q = round.grads.x.data;
    let num = 0;
    let den = 0;
    for (let i = 0; i < a.length; i++) {
      num += (a[i] - q[i]) ** 2;
      den += a[i] ** 2;
    }
    // Quantisation moves activations by ≤ 1/510, so STE gradients differ only slightly; a zero
    // derivative through Round would lose the whole LR path instead.
    expect(Math.sqrt(num / den)).toBeLessThan(0.05);
    expect(Math.sqrt(num)).toBeGreaterThan(0);
  });

  it('one gradient model serves two frame sizes', async () => {
    const m = irnBlock('Identity');
    const opts = { wrt: ['x'], loss: { kind: 'mse' as const, output: outOf(m) } };
    // through the protobuf round trip, as callers load it
    const gm = decodeModel(encodeModel(buildGradientModel(m, opts)));
    for (const [h, w] of [[6, 8], [10, 4]]) {
      await expectGradientsMatch(m, opts, { x: feed(rng(h), [1, 3, h, w], 0.5) }, 2e-2, { gradModel: gm, eps: 3e-4 });
    }
  });

  it('opset 18 (reduce axes as inputs): IRN-style block gradients still match', async () => {
    const m = { ...irnBlock('Identity'), opsetImport: [{ domain: '', version: 18 }] };
    await expectGradientsMatch(m, { wrt: ['x', 'rho_w2'], loss: { kind: 'mse', output: outOf(m) } }, { x: feed(rng(2), [1, 3, 6, 6], 0.5) }, 2e-2, { eps: 3e-4, dirs: 2 });
  });

  it('torch.onnx.export-style graph: Constant nodes, shape subgraph, initializers listed as inputs', async () => {
    const r = rng(5);
    const b = new GraphBuilder('torchlike');
    b.input('x', ['batch', 3, 'height', 'width']);
    b.initializer('conv.weight', randn(r, 3 * 3 * 9, 0.3), [3, 3, 3, 3]);
    b.inputs.push(valueInfo('conv.weight', [3, 3, 3, 3]));
    // an initializer listed as an input but used by nothing the loss needs
    b.initializer('unused.bias', new Float32Array(3), [3]);
    b.inputs.push(valueInfo('unused.bias', [3]));
    const shape = b.op('Shape', ['x']);
    const n = b.op('Gather', [shape, b.op('Constant', [], { value: attr.tensor(tensorToProto('v', new BigInt64Array([0n]), [])) })], { axis: attr.int(0) });
    const target = b.op('Concat', [b.op('Unsqueeze', [n, b.constI64([0])]), b.constI64([-1])], { axis: attr.int(0) });
    const flat = b.op('Reshape', ['x', target]);
    const half = b.op('Constant', [], { value: attr.tensor(tensorToProto('v', new Float32Array([0.5]), [])) });
    const back = b.op('Reshape', [b.op('Mul', [flat, half]), shape]);
    // Slice with a negative axis needs the rank of a tensor reshaped by a run-time shape
    const cut = b.op('Slice', [back, b.constI64([1]), b.constI64([-1]), b.constI64([-1])]);
    const y = b.op('Relu', [b.op('Conv', [cut, 'conv.weight'], convAttrs(3))]);
    b.output(y);
    const m = b.toModel();
    const res = await expectGradientsMatch(m, { wrt: ['x', 'conv.weight'], loss: { kind: 'mse', output: y } }, { x: feed(r, [2, 3, 5, 7]) }, 2e-2, { eps: 1e-3 });
    expect(res.loss).toBeGreaterThan(0);
    const gm = buildGradientModel(m, { wrt: ['x'], loss: { kind: 'mse', output: y } });
    // the frozen weight keeps its initializer (an optional input, as exported); the pruned one is gone
    expect(gm.graph!.input!.map((v) => v.name)).toEqual(['x', 'conv.weight', 'target']);
    expect(gm.graph!.initializer!.map((t) => t.name)).toContain('conv.weight');
  });

  it('l1 loss: gradient is sign(y − t)·dy/dx / N (exact reference; finite differences are unreliable at |·| kinks)', async () => {
    const b = new GraphBuilder('l1');
    b.input('x', [2, 5]);
    const y = b.op('Tanh', ['x']);
    b.output(y);
    const gm = buildGradientModel(b.toModel(), { wrt: ['x'], loss: { kind: 'l1', output: y } });
    const x = feed(rng(1), [2, 5]);
    const t = feed(rng(2), [2, 5]);
    const res = await runModel(gm, { x, target: t });
    const tanh = Array.from(x.data, Math.tanh);
    expect(res.loss.data[0]).toBeCloseTo(tanh.reduce((a, v, i) => a + Math.abs(v - t.data[i]), 0) / 10, 5);
    tanh.forEach((v, i) => expect(res.grad_x.data[i]).toBeCloseTo((Math.sign(v - t.data[i]) * (1 - v * v)) / 10, 6));
  });

  it('scalar loss: d/dx Σx² = 2x exactly', async () => {
    const b = new GraphBuilder('scalar');
    b.input('x', [2, 3]);
    const y = b.op('ReduceSum', [b.op('Mul', ['x', 'x'])], { keepdims: attr.int(0) });
    b.output(y);
    const gm = buildGradientModel(b.toModel(), { wrt: ['x'], loss: { kind: 'scalar', output: y } });
    const x = feed(rng(3), [2, 3]);
    const res = await runModel(gm, { x });
    expect(res.loss.dims).toEqual([]);
    expect(res.loss.data[0]).toBeCloseTo(x.data.reduce((a, v) => a + v * v, 0), 4);
    Array.from(res.grad_x.data).forEach((g, i) => expect(g).toBeCloseTo(2 * x.data[i], 5));
  });
});

describe('graph hygiene', () => {
  function twoHeads(headOp: string) {
    const b = new GraphBuilder('heads');
    b.input('x', [1, 2, 'H', 'W']);
    b.initializer('w', randn(rng(2), 2 * 2 * 9), [2, 2, 3, 3]);
    const y = b.op('Conv', ['x', 'w'], convAttrs(3), 'y');
    b.output(y);
    b.output(b.op(headOp, [b.op('Exp', ['x'])], {}, 'side'));
    return b.toModel();
  }

  it('an op without a rule on the loss path throws UnsupportedOpError naming op and node', () => {
    const b = new GraphBuilder('bad');
    b.input('x', [1, 4]);
    const h = b.node('Softmax', ['x'], {}, { name: 'my_softmax' })[0];
    b.output(h);
    const build = () => buildGradientModel(b.toModel(), { wrt: ['x'], loss: { kind: 'mse', output: h } });
    expect(build).toThrow(UnsupportedOpError);
    expect(build).toThrow(/Softmax.*my_softmax/);
  });

  it('unsupported ops off the loss path are ignored, and unneeded forward nodes are pruned', () => {
    const m = twoHeads('Softmax');
    const gm = buildGradientModel(m, { wrt: ['x'], loss: { kind: 'mse', output: 'y' } });
    const ops = gm.graph!.node!.map((n) => n.opType);
    expect(ops).not.toContain('Softmax');
    expect(ops).not.toContain('Exp');
    expect(gm.graph!.output!.map((o) => o.name)).toEqual(['loss', 'grad_x']);
    // frozen weight: no weight-gradient conv, and only the needed initializers survive
    expect(ops.filter((o) => o === 'Conv')).toHaveLength(2);
  });

  it('a residual Add of same-shape tensors needs no run-time unbroadcasting (symbolic shapes)', async () => {
    const b = new GraphBuilder('residual');
    b.input('x', [1, 4, 'H', 'W']);
    b.initializer('w', randn(rng(4), 4 * 4 * 9, 0.3), [4, 4, 3, 3]);
    b.initializer('scale', Float32Array.from([0.5, 1, 1.5, 2]), [4, 1, 1]);
    const h = b.op('Mul', [b.op('Relu', [b.op('Conv', ['x', 'w'], convAttrs(3))]), 'scale']);
    const y = b.op('Add', [b.op('Tanh', ['x']), h]);
    b.output(y);
    const m = b.toModel();
    const gm = buildGradientModel(m, { wrt: ['x', 'scale'], loss: { kind: 'mse', output: y } });
    const ops = gm.graph!.node!.map((n) => n.opType);
    expect(ops).not.toContain('NonZero');
    // only the per-channel scale needs a sum (over N, H, W)
    expect(ops.filter((o) => o === 'ReduceSum')).toHaveLength(1);
    await expectGradientsMatch(m, { wrt: ['x', 'scale'], loss: { kind: 'mse', output: y } }, { x: feed(rng(6), [1, 4, 5, 6]) }, 2e-2, { eps: 1e-3 });
  });

  it('Relu masks of a conv stack stay convolutions, and gradients carry symbolic shapes', () => {
    const b = new GraphBuilder('stack');
    b.input('x', [1, 3, 'H', 'W']);
    b.initializer('w0', randn(rng(1), 8 * 3 * 9, 0.3), [8, 3, 3, 3]);
    b.initializer('w1', randn(rng(2), 8 * 8 * 9, 0.3), [8, 8, 3, 3]);
    const h = b.op('Relu', [b.op('Conv', ['x', 'w0'], convAttrs(3))]);
    const y = b.op('Conv', [h, 'w1'], convAttrs(3));
    b.output(y);
    const gm = buildGradientModel(b.toModel(), { wrt: ['x'], loss: { kind: 'mse', output: y } });
    const ops = gm.graph!.node!.map((n) => n.opType);
    expect(ops).not.toContain('Greater');
    expect(ops).toContain('Tanh');
    const shapes = new Map(gm.graph!.valueInfo!.map((v) => [v.name, v.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))]));
    expect(shapes.get(h)).toEqual([1, 8, 'H', 'W']);
    expect([...shapes.values()].filter((d) => d.join() === '1,8,H,W').length).toBeGreaterThanOrEqual(4);
  });

  it('keepOutputs exposes the forward outputs', async () => {
    const m = twoHeads('Sigmoid');
    const gm = buildGradientModel(m, { wrt: ['w'], loss: { kind: 'mse', output: 'y' }, keepOutputs: true });
    expect(gm.graph!.output!.map((o) => o.name)).toEqual(['loss', 'grad_w', 'y', 'side']);
    // the weight became an input that callers feed
    expect(gm.graph!.input!.map((v) => v.name)).toEqual(['x', 'w', 'target']);
    expect(gm.graph!.initializer!.some((t) => t.name === 'w')).toBe(false);
    const x = feed(rng(1), [1, 2, 4, 5]);
    const w = feed(rng(2), [2, 2, 3, 3]);
    const res = await runModel(gm, { x, w, target: feed(rng(3), [1, 2, 4, 5]) });
    expect(res.grad_w.dims).toEqual([2, 2, 3, 3]);
    expect(res.side.data[0]).toBeCloseTo(1 / (1 + Math.exp(-Math.exp(x.data[0]))), 5);
  });

  it('rejects unknown wrt names, clashing output names and old opsets', () => {
    const m = twoHeads('Sigmoid');
    expect(() => buildGradientModel(m, { wrt: ['nope'], loss: { kind: 'mse', output: 'y' } })).toThrow(/nope/);
    expect(() => buildGradientModel(m, { wrt: ['x'], loss: { kind: 'mse', output: 'nope' } })).toThrow(/nope/);
    const clash = twoHeads('Sigmoid');
    clash.graph!.node!.find((n) => n.output![0] === 'side')!.output = ['grad_x'];
    clash.graph!.output![1].name = 'grad_x';
    expect(() => buildGradientModel(clash, { wrt: ['x'], loss: { kind: 'mse', output: 'y' } })).toThrow(/already has a tensor named 'grad_x'/);
    const old = { ...m, opsetImport: [{ domain: '', version: 11 }] };
    expect(() => buildGradientModel(old, { wrt: ['x'], loss: { kind: 'mse', output: 'y' } })).toThrow(/opset 11/);
  });
});
