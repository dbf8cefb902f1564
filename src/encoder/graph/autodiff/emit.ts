import { attr, type AttrValue, GraphBuilder } from '../builder.js';
import { DataType, type NodeProto } from '../proto.js';
import { tensorToProto } from '../tensor.js';
import type { GraphInfo } from './graph.js';

/** Slice's "to the end" (INT64_MAX would not survive a JS number; ORT clamps any large end). */
export const END = 2 ** 53 - 1;

/**
 * Emits backward nodes. Wraps a GraphBuilder with the small shape helpers every rule needs;
 * anything that depends on H×W is computed at run time from Shape ops, so one gradient model
 * serves every frame size.
 */
export class Emitter {
  private readonly shapes = new Map<string, string>();
  private readonly scalars = new Map<number, string>();
  private readonly ints = new Map<string, string>();
  /** Tensors known to have the (symbolic) shape of a forward tensor: emitted as value_info. */
  readonly sameShape = new Map<string, string>();

  constructor(
    readonly b: GraphBuilder,
    readonly info: GraphInfo,
  ) {}

  /** Records that `t` has the shape of forward tensor `like` (lets ORT keep both in NCHWc layout). */
  annotate(t: string, like: string): string {
    if (!this.sameShape.has(t)) this.sameShape.set(t, like);
    return t;
  }

  op(type: string, inputs: string[], attrs: Record<string, AttrValue> = {}): string {
    return this.b.op(type, inputs, attrs);
  }

  /** A float scalar constant (shared between uses). */
  f(v: number): string {
    let n = this.scalars.get(v);
    if (!n) {
      n = this.b.constF([v], [], 'k');
      this.scalars.set(v, n);
    }
    return n;
  }

  /** An int64 1-D constant (shared between uses). */
  i64(values: number[]): string {
    const key = values.join(',');
    let n = this.ints.get(key);
    if (!n) {
      n = this.b.constI64(values, [values.length], 'ki');
      this.ints.set(key, n);
    }
    return n;
  }

  shape(x: string): string {
    let s = this.shapes.get(x);
    if (!s) {
      s = this.op('Shape', [x]);
      this.shapes.set(x, s);
    }
    return s;
  }

  /** Elements [start, end) of x's shape as a 1-D int64 tensor. */
  dims(x: string, start: number, end: number): string {
    return this.op('Slice', [this.shape(x), this.i64([start]), this.i64([end === 0 ? END : end]), this.i64([0])]);
  }

  mul(a: string, b: string): string {
    return this.op('Mul', [a, b]);
  }

  neg(a: string): string {
    return this.op('Neg', [a]);
  }

  zerosLike(x: string): string {
    const value = tensorToProto('value', new Float32Array([0]), [1]);
    return this.op('ConstantOfShape', [this.shape(x)], { value: attr.tensor(value) });
  }

  reshapeLike(g: string, x: string): string {
    return this.op('Reshape', [g, this.shape(x)]);
  }

  slice(x: string, starts: number[], ends: number[], axes: number[], steps?: number[]): string {
    const ins = [x, this.i64(starts), this.i64(ends), this.i64(axes)];
    if (steps) ins.push(this.i64(steps));
    return this.op('Slice', ins);
  }

  reduceSum(x: string, axes: number[], keepdims: boolean): string {
    return this.op('ReduceSum', [x, this.i64(axes)], { keepdims: attr.int(keepdims ? 1 : 0) });
  }

  /**
   * Sums g (the gradient of a broadcast result `out`) back to the shape of x. Statically when x's
   * rank and (symbolic) dims are known (symbolic dims are taken as never broadcast, as H and W are
   * not); otherwise from run-time shapes.
   */
  unbroadcast(g: string, x: string, out: string, others: string[] = []): string {
    if (others.length && others.every((o) => this.fitsInto(o, x))) return g;
    const xr = this.info.rank(x);
    const outRank = this.info.rank(out);
    const xd = this.info.staticDims(x);
    if (xr !== undefined && outRank !== undefined && xd) {
      // g's size on an axis where x has size 1 is 1 too when out's is: no sum needed there.
      const od = this.info.sym.get(out);
      const lead = outRank - xr;
      const axes = [...Array(lead).keys(), ...xd.flatMap((d, i) => (d === 1 && od?.[i + lead] !== 1 ? [i + lead] : []))];
      if (!axes.length) return g;
      const s = this.reduceSum(g, axes, true);
      return lead ? this.reshapeLike(s, x) : s;
    }
    return this.unbroadcastRuntime(g, x);
  }

  /**
   * Whether broadcasting `o` against `x` provably leaves x's shape unchanged: o's dims are static
   * and each one above 1 matches a known dim of x (e.g. a [C,1,1] slope against a C-channel map).
   */
  private fitsInto(o: string, x: string): boolean {
    const od = this.info.dims.get(o) ?? this.info.consts.get(o)?.dims;
    const xr = this.info.rank(x);
    if (!od || xr === undefined || od.length > xr) return false;
    const xd = this.info.staticDims(x);
    const lead = xr - od.length;
    return od.every((d, i) => {
      if (d === 1) return true;
      const axis = i + lead;
      const known = xd?.[axis] ?? (axis === 1 && xr === 4 ? this.info.channelsOf(x) : undefined);
      return d > 1 && known === d;
    });
  }

  private unbroadcastRuntime(g: string, x: string): string {
    const sg = this.shape(g);
    const sx = this.shape(x);
    const lead = this.op('Sub', [this.op('Shape', [sg]), this.op('Shape', [sx])]);
    const one = tensorToProto('value', new BigInt64Array([1n]), [1]);
    const ones = this.op('ConstantOfShape', [lead], { value: attr.tensor(one) });
    const padded = this.op('Concat', [ones, sx], { axis: attr.int(0) });
    // Summing over an axis where x has size 1 is right whether or not it was broadcast.
    const mask = this.op('Equal', [padded, this.i64([1])]);
    const axes = this.op('Reshape', [this.op('NonZero', [mask]), this.i64([-1])]);
    const s = this.op('ReduceSum', [g, axes], { keepdims: attr.int(1), noop_with_empty_axes: attr.int(1) });
    return this.op('Reshape', [s, sx]);
  }

  /** Float mask (1 where cond holds) without changing g's dtype: Where(cond, g, 0). */
  where(cond: string, a: string, b: string): string {
    return this.op('Where', [cond, a, b]);
  }

  castFloat(x: string): string {
    return this.op('Cast', [x], { to: attr.int(DataType.FLOAT) });
  }
}

export interface VjpContext {
  e: Emitter;
  node: NodeProto;
  /** Node name for error messages. */
  label: string;
  inputs: string[];
  outputs: string[];
  /** Gradient flowing into output i; zeros when that output does not reach the loss. */
  gradOut(i?: number): string;
  /** Whether input i needs a gradient (it lies on a path from a wrt tensor). */
  needs(i: number): boolean;
  /** Rank of the node's output 0 or of input i, when known statically. */
  rankOf(name: string): number | undefined;
}

/** A vector-Jacobian product: gradients for the node's inputs (undefined = none needed). */
export interface VjpRule {
  /** Inputs through which gradient can flow; others (shapes, axes, pads) are never differentiated. */
  diff: number[] | 'all';
  vjp(ctx: VjpContext): (string | undefined)[];
}
