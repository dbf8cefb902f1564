/**
 * The upscaler architectures the player's own kernels run, recognised in an ONNX graph:
 *
 *   y = [Clip]( DepthToSpace_s( body(x) + skip(x) ) )
 *
 * body: a chain of "same" convolutions (odd k, stride 1), each but the last followed by an
 * optional Relu / LeakyRelu / PRelu; skip: one such convolution (grouped or not), optionally on
 * a reflect-padded input (Pad + unpadded Conv): the hcd-x2/x4 upscalers (3x3 convs + PRelu and a
 * fixed bicubic 5x5 residual) and the test models (Relu body, 1x1 nearest-neighbour skip) alike.
 * Anything else is left to onnxruntime-web.
 */
import type { OnnxGraph, OnnxNode, OnnxTensor } from './onnx.js';

/** One convolution, dense (groups expanded), with its activation. */
export interface ConvLayer {
  cin: number;
  cout: number;
  /** Square kernel side (odd). */
  k: number;
  /** Edges: zero padding (Conv's pads) or reflection (a Pad node before it). */
  reflect: boolean;
  /** [cout][cin][k][k], as ONNX stores it. */
  weights: Float32Array;
  bias: Float32Array;
  /** Per output channel: y = x < 0 ? slope * x : x. Absent: linear. */
  slope?: Float32Array;
}

export interface KernelPlan {
  scale: number;
  input: string;
  output: string;
  /** Channels first, last one giving 3 * scale^2 channels, no activation. */
  body: ConvLayer[];
  /** On the input, 3 * scale^2 channels, no activation; added to the body's output. */
  skip: ConvLayer;
  /** DepthToSpace's channel order: CRD (colour, row, column) or DCR (row, column, colour). */
  order: 'CRD' | 'DCR';
  clip?: { lo: number; hi: number };
  /** LR pixels each output pixel depends on, on each side. */
  radius: number;
}

class NotCovered extends Error {}

function fail(why: string): never {
  throw new NotCovered(why);
}

interface Graph {
  g: OnnxGraph;
  producer: Map<string, OnnxNode>;
  consumers: Map<string, number>;
}

function index(g: OnnxGraph): Graph {
  const producer = new Map<string, OnnxNode>();
  const consumers = new Map<string, number>();
  for (const n of g.nodes) {
    if (n.domain && n.domain !== 'ai.onnx') fail(`op ${n.domain}.${n.opType}`);
    for (const o of n.outputs) producer.set(o, n);
    for (const i of n.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  }
  return { g, producer, consumers };
}

function constant(gr: Graph, name: string | undefined, what: string): OnnxTensor {
  const t = name ? gr.g.initializers.get(name) : undefined;
  if (!t) fail(`${what} is not an initializer`);
  return t;
}

function floats(t: OnnxTensor): Float32Array {
  return t.values instanceof Float32Array ? t.values : Float32Array.from(t.values);
}

function ints(n: OnnxNode, name: string, fallback: number[]): number[] {
  return n.attrs.get(name)?.ints ?? fallback;
}

/** The node that makes `name`, used by nothing else (so fusing it away loses nothing). */
function only(gr: Graph, name: string): OnnxNode | undefined {
  const n = gr.producer.get(name);
  if (n && (gr.consumers.get(name) ?? 0) > 1) fail(`${name} is used twice`);
  return n;
}

function activation(gr: Graph, n: OnnxNode, channels: number): Float32Array {
  if (n.opType === 'Relu') return new Float32Array(channels);
  if (n.opType === 'LeakyRelu') return new Float32Array(channels).fill(n.attrs.get('alpha')?.f ?? 0.01);
  const s = floats(constant(gr, n.inputs[1], 'PRelu slope'));
  if (s.length === 1) return new Float32Array(channels).fill(s[0]);
  if (s.length !== channels) fail(`PRelu slope of ${s.length} values for ${channels} channels`);
  return s;
}

/** A Conv node as a dense layer; `pad`: the reflect Pad before it, if any. */
function convLayer(gr: Graph, n: OnnxNode, reflectPad: number): ConvLayer {
  const wt = constant(gr, n.inputs[1], 'Conv weights');
  const [cout, cinG, kh, kw] = wt.dims;
  const group = n.attrs.get('group')?.i ?? 1;
  const k = kh;
  if (wt.dims.length !== 4 || kh !== kw || k % 2 !== 1) fail(`Conv kernel ${wt.dims.join('x')}`);
  if (ints(n, 'strides', [1, 1]).some((s) => s !== 1) || ints(n, 'dilations', [1, 1]).some((d) => d !== 1)) fail('Conv with strides or dilations');
  if ((n.attrs.get('auto_pad')?.s ?? 'NOTSET') !== 'NOTSET') fail('Conv auto_pad');
  const want = reflectPad ? 0 : (k - 1) / 2;
  if (ints(n, 'pads', [0, 0, 0, 0]).some((p) => p !== want)) fail('Conv padding other than "same"');
  if (reflectPad && reflectPad !== (k - 1) / 2) fail('Pad other than the conv\'s radius');
  if (cout % group !== 0) fail('Conv groups');
  const cin = cinG * group;
  const w = floats(wt);
  const bias = n.inputs[2] ? floats(constant(gr, n.inputs[2], 'Conv bias')) : new Float32Array(cout);
  if (bias.length !== cout || w.length !== cout * cinG * k * k) fail('Conv shapes');
  return { cin, cout, k, reflect: reflectPad > 0, weights: dense(w, cout, cinG, group, k), bias };
}

/** Grouped weights [cout][cin/group][k][k] -> dense [cout][cin][k][k] with zeros between groups. */
function dense(w: Float32Array, cout: number, cinG: number, group: number, k: number): Float32Array {
  if (group === 1) return w;
  const cin = cinG * group;
  const kk = k * k;
  const out = new Float32Array(cout * cin * kk);
  const perGroup = cout / group;
  for (let o = 0; o < cout; o++) {
    const g = Math.floor(o / perGroup);
    for (let i = 0; i < cinG; i++) out.set(w.subarray((o * cinG + i) * kk, (o * cinG + i + 1) * kk), (o * cin + g * cinG + i) * kk);
  }
  return out;
}

/** The reflect padding of a Pad node on H and W only (0 if `n` is no Pad). */
function reflectPadOf(gr: Graph, n: OnnxNode): number {
  if ((n.attrs.get('mode')?.s ?? 'constant') !== 'reflect') fail('Pad other than reflect');
  const pads = n.inputs[1] ? Array.from(constant(gr, n.inputs[1], 'Pad pads').values) : ints(n, 'pads', []);
  const [n0, c0, t, l, n1, c1, b, r] = pads;
  if (pads.length !== 8 || n0 || c0 || n1 || c1 || t !== l || t !== b || t !== r || !(t > 0)) fail(`Pad ${pads.join(',')}`);
  return t;
}

/** Follows a chain of convolutions back from `name` to the graph input. */
function chain(gr: Graph, name: string, input: string): ConvLayer[] {
  const layers: ConvLayer[] = [];
  let cur = name;
  let act: OnnxNode | undefined;
  while (cur !== input) {
    const n = only(gr, cur) ?? fail(`${cur} has no producer`);
    if (['Relu', 'LeakyRelu', 'PRelu'].includes(n.opType)) {
      if (act) fail('two activations in a row');
      act = n;
      cur = n.inputs[0];
      continue;
    }
    if (n.opType !== 'Conv') fail(`op ${n.opType}`);
    const before = n.inputs[0] === input ? undefined : only(gr, n.inputs[0]);
    const pad = before?.opType === 'Pad' ? reflectPadOf(gr, before) : 0;
    const layer = convLayer(gr, n, pad);
    if (act) layer.slope = activation(gr, act, layer.cout);
    layers.unshift(layer);
    act = undefined;
    cur = pad ? (before as OnnxNode).inputs[0] : n.inputs[0];
    if (pad && cur !== input) fail('Pad inside the body');
  }
  if (act) fail('an activation on the input');
  return layers;
}

function checkChannels(layers: ConvLayer[], out: number): void {
  let c = 3;
  for (const l of layers) {
    if (l.cin !== c) fail(`a conv takes ${l.cin} channels, gets ${c}`);
    c = l.cout;
  }
  if (c !== out) fail(`the branch gives ${c} channels, DepthToSpace needs ${out}`);
  if (layers[layers.length - 1].slope) fail('an activation before the Add');
}

function clipOf(gr: Graph, n: OnnxNode): { lo: number; hi: number } {
  // opset 11+: bounds as inputs; before: attributes
  const v = (i: number, attr: string) => (n.inputs[i] ? floats(constant(gr, n.inputs[i], 'Clip bound'))[0] : n.attrs.get(attr)?.f);
  return { lo: v(1, 'min') ?? -Infinity, hi: v(2, 'max') ?? Infinity };
}

function recognise(g: OnnxGraph): KernelPlan {
  const inputs = g.inputs.filter((i) => !g.initializers.has(i));
  if (inputs.length !== 1 || g.outputs.length !== 1) fail('not one input and one output');
  const gr = index(g);
  const [input, output] = [inputs[0], g.outputs[0]];
  let n = only(gr, output) ?? fail('no output node');
  let clip: KernelPlan['clip'];
  if (n.opType === 'Clip') {
    clip = clipOf(gr, n);
    n = only(gr, n.inputs[0]) ?? fail('Clip of the input');
  }
  if (n.opType !== 'DepthToSpace') fail(`op ${n.opType} before the output`);
  const scale = n.attrs.get('blocksize')?.i ?? 0;
  const order = n.attrs.get('mode')?.s ?? 'DCR';
  if (!(scale >= 2 && scale <= 8) || (order !== 'CRD' && order !== 'DCR')) fail('DepthToSpace');
  const add = only(gr, n.inputs[0]) ?? fail('DepthToSpace of the input');
  if (add.opType !== 'Add' || add.inputs.length !== 2) fail(`op ${add.opType} before DepthToSpace`);
  const [a, b] = add.inputs.map((x) => chain(gr, x, input));
  const [body, skip] = a.length >= b.length ? [a, b] : [b, a];
  if (skip.length !== 1) fail('no single-conv branch to the Add');
  for (const l of body) if (l.reflect) fail('reflect padding in the body');
  checkChannels(body, 3 * scale * scale);
  checkChannels(skip, 3 * scale * scale);
  const radius = Math.max(body.reduce((r, l) => r + (l.k - 1) / 2, 0), (skip[0].k - 1) / 2);
  return { scale, input, output, body, skip: skip[0], order, clip, radius };
}

/** The kernels' plan for `g`, or why it is not of the pattern. */
export function planKernels(g: OnnxGraph): { plan: KernelPlan } | { problem: string } {
  try {
    return { plan: recognise(g) };
  } catch (e) {
    if (e instanceof NotCovered) return { problem: `not the player's own upscaler pattern: ${e.message}` };
    throw e;
  }
}
