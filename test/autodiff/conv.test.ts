import { describe, expect, it } from 'vitest';
import { buildGradientModel } from '../../src/encoder/graph/autodiff/index.js';
import { attr, GraphBuilder } from '../../src/encoder/graph/builder.js';
import { expectGradientsMatch, feed, randn, rng } from './fd.js';

interface ConvCase {
  name: string;
  cin: number;
  cout: number;
  k: [number, number];
  strides?: [number, number];
  pads?: [number, number, number, number];
  dilations?: [number, number];
  group?: number;
  hw: [number, number];
}

const cases: ConvCase[] = [
  { name: '3x3 stride 1 same', cin: 3, cout: 4, k: [3, 3], pads: [1, 1, 1, 1], hw: [7, 9] },
  { name: '3x3 valid (no pad)', cin: 2, cout: 3, k: [3, 3], hw: [6, 5] },
  { name: 'asymmetric pads and kernel', cin: 2, cout: 3, k: [2, 3], pads: [0, 2, 1, 0], hw: [6, 7] },
  { name: 'stride 2 with a remainder row', cin: 3, cout: 2, k: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], hw: [8, 9] },
  { name: 'stride (2,3), dilation 2', cin: 2, cout: 2, k: [3, 2], strides: [2, 3], pads: [2, 1, 1, 0], dilations: [2, 2], hw: [11, 10] },
  { name: 'dilation 2 stride 1', cin: 3, cout: 3, k: [3, 3], pads: [2, 2, 2, 2], dilations: [2, 2], hw: [7, 8] },
  { name: 'groups = 2', cin: 4, cout: 6, k: [3, 3], pads: [1, 1, 1, 1], group: 2, hw: [6, 6] },
  { name: 'depthwise stride 2', cin: 4, cout: 4, k: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], group: 4, hw: [7, 8] },
  { name: 'pad larger than kernel', cin: 2, cout: 2, k: [1, 1], pads: [1, 2, 0, 1], hw: [4, 5] },
];

function convModel(c: ConvCase, seed: number) {
  const r = rng(seed);
  const b = new GraphBuilder('conv');
  b.input('x', ['N', c.cin, 'H', 'W']);
  const g = c.group ?? 1;
  const wDims = [c.cout, c.cin / g, ...c.k];
  b.initializer('w', randn(r, wDims.reduce((a, v) => a * v, 1), 0.5), wDims);
  b.initializer('bias', randn(r, c.cout, 0.5), [c.cout]);
  const y = b.op('Conv', ['x', 'w', 'bias'], {
    kernel_shape: attr.ints(c.k),
    strides: attr.ints(c.strides ?? [1, 1]),
    pads: attr.ints(c.pads ?? [0, 0, 0, 0]),
    dilations: attr.ints(c.dilations ?? [1, 1]),
    group: attr.int(g),
  });
  b.output(b.op('Tanh', [y]));
  return b.toModel();
}

describe('Conv gradients match finite differences', () => {
  for (const [i, c] of cases.entries()) {
    it(c.name, async () => {
      const model = convModel(c, 10 + i);
      const out = model.graph!.output![0].name!;
      const r = rng(100 + i);
      await expectGradientsMatch(model, { wrt: ['x', 'w', 'bias'], loss: { kind: 'mse', output: out } }, { x: feed(r, [2, c.cin, ...c.hw]) });
    });
  }

  for (const c of cases.filter((cc) => (cc.group ?? 1) > 1 || !cc.strides)) {
    it(`${c.name}: frozen weights (flipped at build time)`, async () => {
      const model = convModel(c, 3);
      const r = rng(5);
      await expectGradientsMatch(model, { wrt: ['x'], loss: { kind: 'mse', output: model.graph!.output![0].name! } }, { x: feed(r, [1, c.cin, ...c.hw]) });
    });
  }

  it('precomputes the flipped weight for a frozen stride-1 conv and uses no ConvTranspose', () => {
    const model = convModel(cases[0], 1);
    const gm = buildGradientModel(model, { wrt: ['x'], loss: { kind: 'mse', output: model.graph!.output![0].name! } });
    const ops = gm.graph!.node!.map((n) => n.opType);
    expect(ops).not.toContain('ConvTranspose');
    expect(ops.filter((o) => o === 'Conv')).toHaveLength(2);
    expect(ops).not.toContain('Transpose');
    // weights of a non-wrt initializer stay baked in; only x (and the target) are inputs
    expect(gm.graph!.input!.map((v) => v.name)).toEqual(['x', 'target']);
  });
});

describe('ConvTranspose gradients match finite differences', () => {
  const ctCases = [
    { name: 'stride 2, pads 1, output_padding 1', cin: 3, cout: 2, k: 3, s: 2, pads: [1, 1, 1, 1], op: [1, 1], group: 1 },
    { name: 'stride 1, k 3', cin: 2, cout: 3, k: 3, s: 1, pads: [1, 0, 0, 1], op: [0, 0], group: 1 },
    { name: 'grouped stride 2 k 4', cin: 4, cout: 4, k: 4, s: 2, pads: [1, 1, 1, 1], op: [0, 0], group: 2 },
  ];
  for (const [i, c] of ctCases.entries()) {
    it(c.name, async () => {
      const r = rng(40 + i);
      const b = new GraphBuilder('ct');
      b.input('x', ['N', c.cin, 'H', 'W']);
      const wDims = [c.cin, c.cout / c.group, c.k, c.k];
      b.initializer('w', randn(r, wDims.reduce((a, v) => a * v, 1), 0.5), wDims);
      b.initializer('bias', randn(r, c.cout, 0.5), [c.cout]);
      const y = b.op('ConvTranspose', ['x', 'w', 'bias'], {
        kernel_shape: attr.ints([c.k, c.k]),
        strides: attr.ints([c.s, c.s]),
        pads: attr.ints(c.pads),
        output_padding: attr.ints(c.op),
        dilations: attr.ints([1, 1]),
        group: attr.int(c.group),
      });
      b.output(y);
      await expectGradientsMatch(b.toModel(), { wrt: ['x', 'w', 'bias'], loss: { kind: 'mse', output: y } }, { x: feed(r, [1, c.cin, 5, 6]) });
    });
  }
});
