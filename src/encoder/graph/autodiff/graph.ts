import { attrInt, attrInts, attrOf, attrString, attrTensor } from '../attrs.js';
import { DataType, type GraphProto, type NodeProto, toNumber } from '../proto.js';
import { keepsChannels, opInfo } from '../ops.js';
import { tensorFromProto, type TensorData } from '../tensor.js';

/**
 * What the gradient engine knows statically about a forward graph: constant values (initializers
 * not being differentiated, Constant nodes) and tensor ranks. Ranks hold for every frame size, so
 * rules may rely on them; dimension sizes may not (they are symbolic for H×W).
 */
export class GraphInfo {
  readonly consts = new Map<string, TensorData>();
  readonly ranks = new Map<string, number>();
  /** Static dims of inputs and initializers; -1 marks a symbolic or unknown dim. */
  readonly dims = new Map<string, number[]>();
  readonly producer = new Map<string, NodeProto>();
  readonly floatTensors = new Set<string>();
  /**
   * Symbolic shapes: a number, a dim_param name (equal names are equal sizes), or null where
   * unknown. Tracked through elementwise ops and size-preserving convs, so that e.g. both sides of
   * a residual Add are known to have the same shape.
   */
  readonly sym = new Map<string, SymDim[]>();
  /** Channel count (axis 1) of NCHW tensors where it is static: conv outputs and what keeps them. */
  readonly channels = new Map<string, number>();

  constructor(
    readonly graph: GraphProto,
    wrt: ReadonlySet<string>,
  ) {
    for (const t of graph.initializer ?? []) {
      const name = t.name ?? '';
      const dims = (t.dims ?? []).map(toNumber);
      this.dims.set(name, dims);
      this.ranks.set(name, dims.length);
      this.sym.set(name, dims);
      if (isFloat(t.dataType ?? DataType.FLOAT)) this.floatTensors.add(name);
      if (!wrt.has(name)) this.consts.set(name, tensorFromProto(t));
    }
    for (const vi of graph.input ?? []) {
      const tt = vi.type?.tensorType;
      if (!tt || !vi.name) continue;
      if (tt.elemType !== undefined && tt.elemType !== null && isFloat(tt.elemType)) this.floatTensors.add(vi.name);
      if (tt.shape?.dim && !this.dims.has(vi.name)) {
        const dims = tt.shape.dim.map((d) => (d.dimValue !== undefined && d.dimValue !== null && toNumber(d.dimValue) > 0 ? toNumber(d.dimValue) : -1));
        this.dims.set(vi.name, dims);
        this.ranks.set(vi.name, dims.length);
        this.sym.set(
          vi.name,
          tt.shape.dim.map((d) => (d.dimValue !== undefined && d.dimValue !== null && toNumber(d.dimValue) > 0 ? toNumber(d.dimValue) : d.dimParam || null)),
        );
      }
    }
    for (const vi of [...(graph.valueInfo ?? []), ...(graph.output ?? [])]) {
      const d = vi.type?.tensorType?.shape?.dim;
      if (vi.name && d && !this.ranks.has(vi.name)) this.ranks.set(vi.name, d.length);
    }
    for (const n of graph.node ?? []) {
      for (const o of n.output ?? []) this.producer.set(o, n);
      if (n.opType === 'Constant') {
        const t = attrTensor(n, 'value');
        if (t && n.output?.[0]) {
          const data = tensorFromProto(t);
          this.consts.set(n.output[0], data);
          this.ranks.set(n.output[0], data.dims.length);
          this.sym.set(n.output[0], data.dims);
        }
      }
      this.inferRanks(n);
      this.inferChannels(n);
      this.inferSym(n);
    }
  }

  /** A constant's values as plain numbers, or undefined when the tensor is computed at run time. */
  constNumbers(name: string | undefined): number[] | undefined {
    if (!name) return undefined;
    const c = this.consts.get(name);
    if (!c) return undefined;
    return Array.from(c.data as ArrayLike<number | bigint>, (v) => Number(v));
  }

  rank(name: string): number | undefined {
    return this.ranks.get(name);
  }

  /**
   * Static length of a 1-D int64 tensor (a shape being computed), so that Reshape by a run-time
   * shape, as torch.onnx.export emits, still has a known output rank.
   */
  lengthOf(t: string | undefined): number | undefined {
    if (!t) return undefined;
    const c = this.consts.get(t);
    if (c) return c.dims.length === 1 ? c.dims[0] : undefined;
    const d = this.dims.get(t);
    if (d) return d.length === 1 && d[0] >= 0 ? d[0] : undefined;
    const n = this.producer.get(t);
    if (!n) return undefined;
    const ins = n.input ?? [];
    switch (n.opType) {
      case 'Shape': {
        const r = this.rank(ins[0]);
        if (r === undefined) return undefined;
        const norm = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
        const a = attrOf(n, 'start') ? norm(attrInt(n, 'start', 0)) : 0;
        const b = attrOf(n, 'end') ? norm(attrInt(n, 'end', r)) : r;
        return Math.max(b - a, 0);
      }
      case 'Concat': {
        const parts = ins.map((i) => this.lengthOf(i));
        return parts.every((p) => p !== undefined) ? parts.reduce<number>((a, p) => a + (p ?? 0), 0) : undefined;
      }
      case 'Unsqueeze':
        return this.rank(ins[0]) === 0 ? 1 : undefined;
      case 'Cast':
      case 'Identity':
      case 'Abs':
      case 'Neg':
        return this.lengthOf(ins[0]);
      case 'Add':
      case 'Sub':
      case 'Mul':
      case 'Div': {
        const l = ins.map((i) => (this.rank(i) === 0 ? 1 : this.lengthOf(i)));
        return l.every((v) => v !== undefined) ? Math.max(...(l as number[])) : undefined;
      }
      case 'Gather': {
        const idx = this.consts.get(ins[1]);
        return idx ? (idx.dims.length === 0 ? undefined : idx.dims.reduce((a, v) => a * v, 1)) : undefined;
      }
      case 'Slice': {
        const len = this.lengthOf(ins[0]);
        const st = this.constNumbers(ins[1]);
        const en = this.constNumbers(ins[2]);
        const steps = ins[4] ? this.constNumbers(ins[4]) : [1];
        if (len === undefined || !st || !en || !steps || steps[0] !== 1) return undefined;
        const norm = (v: number) => Math.min(Math.max(v < 0 ? v + len : v, 0), len);
        return Math.max(norm(en[0]) - norm(st[0]), 0);
      }
      default:
        return undefined;
    }
  }

  /** x's dims for unbroadcasting: numbers, -1 for a symbolic dim; undefined if any is unknown. */
  staticDims(t: string): number[] | undefined {
    const s = this.sym.get(t);
    if (!s || s.some((d) => d === null)) return undefined;
    return s.map((d) => (typeof d === 'number' ? d : -1));
  }

  private inferSym(n: NodeProto): void {
    const ins = n.input ?? [];
    const out = n.output?.[0];
    if (!out || this.sym.has(out)) return;
    const op = n.opType ?? '';
    const a = this.sym.get(ins[0]);
    const shape = opInfo(op)?.shape;
    if (shape === 'same') {
      if (a) this.sym.set(out, a);
    } else if (shape === 'broadcast') {
      const shapes = ins.filter((i) => i).map((i) => this.sym.get(i));
      if (shapes.every((x) => x)) this.sym.set(out, (shapes as SymDim[][]).reduce(broadcastSym));
    } else if (op === 'Conv' && a && a.length >= 3) {
      const w = this.dims.get(ins[1]) ?? this.consts.get(ins[1])?.dims;
      const k = attrInts(n, 'kernel_shape') ?? w?.slice(2);
      if (!w || !k || attrString(n, 'auto_pad', 'NOTSET') !== 'NOTSET') return;
      const sp = k.length;
      const st = attrInts(n, 'strides') ?? Array(sp).fill(1);
      const dl = attrInts(n, 'dilations') ?? Array(sp).fill(1);
      const pads = attrInts(n, 'pads') ?? Array(2 * sp).fill(0);
      const spatial = a.slice(2).map((d, i) => {
        const ext = dl[i] * (k[i] - 1);
        const p = pads[i] + pads[i + sp];
        if (typeof d === 'number') return Math.floor((d + p - ext - 1) / st[i]) + 1;
        return st[i] === 1 && p === ext ? d : null;
      });
      this.sym.set(out, [a[0], w[0] > 0 ? w[0] : null, ...spatial]);
    }
  }

  private inferChannels(n: NodeProto): void {
    const ins = n.input ?? [];
    const out = n.output?.[0];
    if (!out) return;
    const op = n.opType ?? '';
    const wd = (t: string | undefined) => (t ? (this.dims.get(t) ?? this.consts.get(t)?.dims) : undefined);
    let c: number | undefined;
    if (op === 'Conv') c = wd(ins[1])?.[0];
    else if (op === 'ConvTranspose') {
      const d = wd(ins[1])?.[1];
      c = d !== undefined && d > 0 ? d * attrInt(n, 'group', 1) : undefined;
    } else if (keepsChannels(opInfo(op))) {
      c = this.channelsOf(ins[0]);
      // with broadcasting, only a first operand of more than one channel fixes the output's
      if (ins.length > 1 && c === 1) c = undefined;
    }
    if (c !== undefined && c > 0) this.channels.set(out, c);
  }

  /** Static size of axis 1 of a rank-4 tensor, if known. */
  channelsOf(t: string): number | undefined {
    const c = this.channels.get(t);
    if (c !== undefined) return c;
    const d = this.dims.get(t);
    return d && d.length === 4 && d[1] > 0 ? d[1] : undefined;
  }

  private inferRanks(n: NodeProto): void {
    const ins = n.input ?? [];
    const outs = n.output ?? [];
    const r = (i: number) => (ins[i] ? this.ranks.get(ins[i]) : undefined);
    const set = (v: number | undefined, i = 0) => {
      if (v !== undefined && outs[i] && !this.ranks.has(outs[i])) this.ranks.set(outs[i], v);
    };
    const op = n.opType ?? '';
    const shape = opInfo(op)?.shape;
    if (shape === 'same' || shape === 'sameRank') {
      for (let i = 0; i < outs.length; i++) set(r(0), i);
    } else if (shape === 'broadcast' || shape === 'broadcastRank') {
      const known = ins.map((_, i) => r(i)).filter((v): v is number => v !== undefined);
      if (known.length === ins.length) set(Math.max(...known));
    } else if (op === 'MatMul') {
      const a = r(0);
      const b = r(1);
      if (a !== undefined && b !== undefined) set(a === 1 || b === 1 ? Math.max(a, b) - 1 : Math.max(a, b));
    } else if (op === 'Gemm' || op === 'Flatten') {
      set(2);
    } else if (op === 'Shape' || op === 'NonZero') {
      set(op === 'Shape' ? 1 : 2);
    } else if (op === 'Size') {
      set(0);
    } else if (op === 'Gather') {
      const rd = r(0);
      const ri = this.consts.get(ins[1])?.dims.length ?? r(1);
      if (rd !== undefined && ri !== undefined) set(rd - 1 + ri);
    } else if (op === 'Reshape' || op === 'ConstantOfShape' || op === 'Expand') {
      const len = this.lengthOf(op === 'ConstantOfShape' ? ins[0] : ins[1]);
      if (len !== undefined) set(op === 'Expand' ? Math.max(len, r(0) ?? 0) : len);
    } else if (op === 'Unsqueeze' || op === 'Squeeze') {
      const axes = attrInts(n, 'axes') ?? this.constNumbers(ins[1]);
      const base = r(0);
      if (base !== undefined && axes) set(op === 'Unsqueeze' ? base + axes.length : base - axes.length);
    } else if (shape === 'reduce') {
      const base = r(0);
      const keep = attrInt(n, 'keepdims', 1);
      const axes = attrInts(n, 'axes') ?? this.constNumbers(ins[1]);
      if (base !== undefined) set(keep ? base : axes && axes.length ? base - axes.length : 0);
    }
  }
}

export function isFloat(t: number): boolean {
  return t === DataType.FLOAT || t === DataType.DOUBLE || t === DataType.FLOAT16 || t === DataType.BFLOAT16;
}

export type SymDim = number | string | null;

function broadcastSym(a: SymDim[], b: SymDim[]): SymDim[] {
  const n = Math.max(a.length, b.length);
  const pa = [...Array(n - a.length).fill(1), ...a];
  const pb = [...Array(n - b.length).fill(1), ...b];
  return pa.map((x, i) => {
    const y = pb[i];
    if (x === y) return x;
    if (x === 1) return y;
    if (y === 1) return x;
    if (typeof x === 'number' && typeof y !== 'number') return x;
    if (typeof y === 'number' && typeof x !== 'number') return y;
    return null;
  });
}

