import { attrInt, attrInts } from '../graph/attrs.js';
import { opInfo } from '../graph/ops.js';
import { toNumber, type ModelProto, type NodeProto } from '../graph/proto.js';
import { numel, tensorFromProto } from '../graph/tensor.js';

/**
 * Parameters and multiply-accumulates of a graph, for budgets. Shapes are propagated statically
 * from the first input's [1,C,H,W] through the ops the project allows; MACs are counted for Conv,
 * ConvTranspose, Gemm and MatMul only (elementwise ops are noise next to them).
 */
export interface ModelStats {
  params: number;
  macs: number;
}

type Shape = number[];

function broadcast(a: Shape, b: Shape): Shape {
  const n = Math.max(a.length, b.length);
  const out: Shape = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    out.push(x === 1 ? y : x);
  }
  return out;
}

export function modelStats(model: ModelProto, inputHW: [number, number]): ModelStats {
  const graph = model.graph;
  if (!graph) throw new Error('model has no graph');
  const consts = new Map<string, number[]>();
  const shapes = new Map<string, Shape>();
  let params = 0;
  const counted = new Set<string>();
  for (const t of graph.initializer ?? []) {
    const d = tensorFromProto(t);
    shapes.set(t.name ?? '', d.dims);
    // small initializers may be shapes, pads, scales or axes that shape inference needs
    if (d.data.length <= 64) consts.set(t.name ?? '', Array.from(d.data as ArrayLike<number | bigint>, (v) => Number(v)));
  }
  const initNames = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  for (const inp of graph.input ?? []) {
    if (initNames.has(inp.name ?? '')) continue;
    const dims = inp.type?.tensorType?.shape?.dim ?? [];
    const shape = dims.map((d, i) => {
      const v = toNumber(d.dimValue);
      if (v > 0) return v;
      if (dims.length === 4 && i >= 2) return inputHW[i - 2];
      return 1;
    });
    shapes.set(inp.name ?? '', shape);
  }

  let macs = 0;
  for (const node of graph.node ?? []) {
    const ins = node.input ?? [];
    const outs = node.output ?? [];
    const op = node.opType ?? '';
    if (opInfo(op)?.weights) {
      for (const name of ins.slice(1)) {
        if (initNames.has(name) && !counted.has(name)) {
          counted.add(name);
          params += numel(shapes.get(name) ?? []);
        }
      }
    }
    const get = (i: number): Shape => {
      const s = shapes.get(ins[i]);
      if (!s) throw new Error(`modelStats: shape of '${ins[i]}' (input of ${op} '${node.name}') is unknown`);
      return s;
    };
    const setOut = (s: Shape, i = 0) => shapes.set(outs[i], s);
    if (op === 'Constant') {
      const t = node.attribute?.find((a) => a.name === 'value')?.t;
      if (t) {
        const d = tensorFromProto(t);
        setOut(d.dims);
        if (d.data.length <= 64) consts.set(outs[0], Array.from(d.data as ArrayLike<number | bigint>, (v) => Number(v)));
      }
      continue;
    }
    const r = inferNode(node, op, get, consts);
    r.shapes.forEach((s, i) => setOut(s, i));
    macs += r.macs;
  }
  return { params, macs };
}

function inferNode(
  node: NodeProto,
  op: string,
  get: (i: number) => Shape,
  consts: Map<string, number[]>,
): { shapes: Shape[]; macs: number } {
  const ins = node.input ?? [];
  const constOf = (i: number): number[] => {
    const v = consts.get(ins[i]);
    if (!v) throw new Error(`modelStats: ${op} '${node.name}' needs a constant for input ${i}`);
    return v;
  };
  const shape = opInfo(op)?.shape;
  if (shape === 'same' || shape === 'broadcast') {
    let s = get(0);
    for (let i = 1; i < ins.length; i++) if (ins[i]) s = broadcast(s, get(i));
    return { shapes: [s], macs: 0 };
  }
  switch (op) {
    case 'Conv':
    case 'ConvTranspose': {
      const x = get(0);
      const w = get(1);
      const k = attrInts(node, 'kernel_shape') ?? w.slice(2);
      const strides = attrInts(node, 'strides') ?? k.map(() => 1);
      const dil = attrInts(node, 'dilations') ?? k.map(() => 1);
      const pads = attrInts(node, 'pads') ?? [...k.map(() => 0), ...k.map(() => 0)];
      const group = attrInt(node, 'group', 1);
      const n = k.length;
      const spatial: number[] = [];
      for (let i = 0; i < n; i++) {
        const inn = x[2 + i];
        const eff = dil[i] * (k[i] - 1) + 1;
        if (op === 'Conv') spatial.push(Math.floor((inn + pads[i] + pads[n + i] - eff) / strides[i]) + 1);
        else {
          const outPad = attrInts(node, 'output_padding')?.[i] ?? 0;
          spatial.push(strides[i] * (inn - 1) + outPad + eff - pads[i] - pads[n + i]);
        }
      }
      const outC = op === 'Conv' ? w[0] : w[1] * group;
      const kernelMacs = numel(k) * w[1];
      // Conv: every output value costs k*k*(Cin/group); ConvTranspose: every input value scatters
      // into k*k*(Cout/group) outputs
      const macs =
        op === 'Conv' ? numel(spatial) * outC * kernelMacs : numel(x.slice(2)) * x[1] * numel(k) * w[1];
      return { shapes: [[x[0], outC, ...spatial]], macs };
    }
    case 'Gemm': {
      const a = get(0);
      const b = get(1);
      const transA = attrInt(node, 'transA', 0);
      const transB = attrInt(node, 'transB', 0);
      const m = transA ? a[1] : a[0];
      const kk = transA ? a[0] : a[1];
      const nn = transB ? b[0] : b[1];
      return { shapes: [[m, nn]], macs: m * kk * nn };
    }
    case 'MatMul': {
      const a = get(0);
      const b = get(1);
      const batch = broadcast(a.slice(0, -2), b.slice(0, -2));
      const m = a[a.length - 2];
      const kk = a[a.length - 1];
      const nn = b[b.length - 1];
      return { shapes: [[...batch, m, nn]], macs: numel(batch) * m * kk * nn };
    }
    case 'Concat': {
      const shapes = ins.map((_, i) => get(i));
      const rank = shapes[0].length;
      const axis = ((attrInt(node, 'axis', 1)) + rank) % rank;
      const out = [...shapes[0]];
      out[axis] = shapes.reduce((acc, s) => acc + s[axis], 0);
      return { shapes: [out], macs: 0 };
    }
    case 'Split': {
      const x = get(0);
      const axis = ((attrInt(node, 'axis', 0)) + x.length) % x.length;
      const parts = ins[1] ? constOf(1) : attrInts(node, 'split');
      const count = (node.output ?? []).length;
      const sizes = parts ?? Array.from({ length: count }, () => Math.ceil(x[axis] / count));
      return { shapes: sizes.map((p) => x.map((d, i) => (i === axis ? p : d))), macs: 0 };
    }
    case 'Slice': {
      const x = get(0);
      const starts = constOf(1);
      const ends = constOf(2);
      const axes = ins[3] ? constOf(3) : starts.map((_, i) => i);
      const steps = ins[4] ? constOf(4) : starts.map(() => 1);
      const out = [...x];
      axes.forEach((a0, i) => {
        const a = (a0 + x.length) % x.length;
        const dim = x[a];
        const clampIdx = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
        const s = clampIdx(starts[i]);
        const e = clampIdx(ends[i]);
        out[a] = Math.max(0, Math.ceil((e - s) / steps[i]));
      });
      return { shapes: [out], macs: 0 };
    }
    case 'Reshape': {
      const x = get(0);
      const target = constOf(1).map((d, i) => (d === 0 ? x[i] : d));
      const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      return { shapes: [target.map((d) => (d === -1 ? numel(x) / known : d))], macs: 0 };
    }
    case 'Transpose': {
      const x = get(0);
      const perm = attrInts(node, 'perm') ?? x.map((_, i) => x.length - 1 - i);
      return { shapes: [perm.map((p) => x[p])], macs: 0 };
    }
    case 'DepthToSpace': {
      const x = get(0);
      const b = attrInt(node, 'blocksize', 1);
      return { shapes: [[x[0], x[1] / (b * b), x[2] * b, x[3] * b]], macs: 0 };
    }
    case 'SpaceToDepth': {
      const x = get(0);
      const b = attrInt(node, 'blocksize', 1);
      return { shapes: [[x[0], x[1] * b * b, x[2] / b, x[3] / b]], macs: 0 };
    }
    case 'Pad': {
      const x = get(0);
      const pads = ins[1] ? constOf(1) : (attrInts(node, 'pads') ?? []);
      const r = x.length;
      return { shapes: [x.map((d, i) => d + (pads[i] ?? 0) + (pads[r + i] ?? 0))], macs: 0 };
    }
    case 'Resize': {
      const x = get(0);
      if (ins[3]) return { shapes: [constOf(3)], macs: 0 };
      const scales = constOf(2);
      return { shapes: [x.map((d, i) => Math.floor(d * scales[i]))], macs: 0 };
    }
    default:
      throw new Error(`modelStats: op ${op} ('${node.name}') is not supported`);
  }
}
