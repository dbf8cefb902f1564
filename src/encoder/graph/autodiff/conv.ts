import { attrInt, attrInts, attrString } from '../attrs.js';
import { attr, type AttrValue } from '../builder.js';
import type { NodeProto } from '../proto.js';
import { type Emitter } from './emit.js';
import { UnsupportedOpError } from './errors.js';

export interface ConvParams {
  k: number[];
  strides: number[];
  dilations: number[];
  /** Begin pads then end pads, one per spatial axis. */
  pb: number[];
  pe: number[];
  group: number;
}

/** Reads Conv/ConvTranspose attributes, taking the kernel size from the weight when absent. */
export function convParams(e: Emitter, node: NodeProto, label: string, w: string): ConvParams {
  const kAttr = attrInts(node, 'kernel_shape');
  const wd = e.info.dims.get(w) ?? e.info.consts.get(w)?.dims;
  const k = kAttr ?? wd?.slice(2);
  if (!k || k.some((v) => v < 0)) throw new UnsupportedOpError(node.opType ?? 'Conv', label, 'kernel size unknown (give kernel_shape)');
  const n = k.length;
  const strides = attrInts(node, 'strides') ?? Array(n).fill(1);
  const dilations = attrInts(node, 'dilations') ?? Array(n).fill(1);
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  let pads = attrInts(node, 'pads') ?? Array(2 * n).fill(0);
  if (autoPad === 'VALID') pads = Array(2 * n).fill(0);
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    // Only with stride 1 are SAME pads independent of the input size.
    if (strides.some((s) => s !== 1) || node.opType !== 'Conv') throw new UnsupportedOpError(node.opType ?? 'Conv', label, `auto_pad ${autoPad} with stride > 1`);
    const total = k.map((kk, i) => dilations[i] * (kk - 1));
    const small = total.map((t) => Math.floor(t / 2));
    const big = total.map((t, i) => t - small[i]);
    pads = autoPad === 'SAME_UPPER' ? [...small, ...big] : [...big, ...small];
  } else if (autoPad !== 'NOTSET') throw new UnsupportedOpError(node.opType ?? 'Conv', label, `auto_pad ${autoPad}`);
  return { k, strides, dilations, pb: pads.slice(0, n), pe: pads.slice(n), group: attrInt(node, 'group', 1) };
}

function convAttrsOf(p: ConvParams, pb: number[], pe: number[], opts: { strides?: number[]; dilations?: number[]; kernel?: boolean } = {}): Record<string, AttrValue> {
  const a: Record<string, AttrValue> = {
    strides: attr.ints(opts.strides ?? p.strides),
    pads: attr.ints([...pb, ...pe]),
    dilations: attr.ints(opts.dilations ?? p.dilations),
    group: attr.int(p.group),
  };
  if (opts.kernel !== false) a.kernel_shape = attr.ints(p.k);
  return a;
}

/** Weight [Cout, Cin/g, k...] → [Cin, Cout/g, k...] with every spatial axis reversed. */
function flipTransposeData(w: Float32Array, dims: number[], group: number): Float32Array {
  const [co, cig] = dims;
  const s = dims.slice(2).reduce((a, b) => a * b, 1);
  const cog = co / group;
  const out = new Float32Array(w.length);
  for (let g = 0; g < group; g++)
    for (let o = 0; o < cog; o++)
      for (let i = 0; i < cig; i++) {
        const src = ((g * cog + o) * cig + i) * s;
        const dst = ((g * cig + i) * cog + o) * s;
        for (let t = 0; t < s; t++) out[dst + t] = w[src + s - 1 - t];
      }
  return out;
}

function flippedWeight(e: Emitter, w: string, p: ConvParams, label: string): string {
  const n = p.k.length;
  const c = e.info.consts.get(w);
  if (c && c.data instanceof Float32Array) {
    const dims = [c.dims[1] * p.group, c.dims[0] / p.group, ...c.dims.slice(2)];
    return e.b.initializer(e.b.fresh(`${w}_flipT`), flipTransposeData(c.data, c.dims, p.group), dims);
  }
  const spatial = Array.from({ length: n }, (_, i) => i + 2);
  let t: string;
  if (p.group === 1) {
    t = e.op('Transpose', [w], { perm: attr.ints([1, 0, ...spatial]) });
  } else {
    const wd = e.info.dims.get(w);
    if (!wd || wd.slice(0, 2).some((d) => d < 0)) throw new UnsupportedOpError('Conv', label, 'grouped conv with a weight of unknown shape');
    const [co, cig] = wd;
    const r = e.op('Reshape', [w, e.i64([p.group, co / p.group, cig, ...p.k])]);
    const tr = e.op('Transpose', [r], { perm: attr.ints([0, 2, 1, ...spatial.map((a) => a + 1)]) });
    t = e.op('Reshape', [tr, e.i64([cig * p.group, co / p.group, ...p.k])]);
  }
  return e.slice(t, Array(n).fill(-1), Array(n).fill(-(2 ** 53) + 1), spatial, Array(n).fill(-1));
}

/** dL/dx of y = Conv(x, w): a Conv with the flipped weight at stride 1, else ConvTranspose. */
export function convInputGrad(e: Emitter, gy: string, x: string, w: string, p: ConvParams, label: string): string {
  const ext = p.k.map((k, i) => p.dilations[i] * (k - 1));
  const pb = ext.map((x0, i) => x0 - p.pb[i]);
  const pe = ext.map((x0, i) => x0 - p.pe[i]);
  if (p.strides.every((s) => s === 1) && [...pb, ...pe].every((v) => v >= 0)) {
    return e.op('Conv', [gy, flippedWeight(e, w, p, label)], convAttrsOf(p, pb, pe));
  }
  // No end crop: with a stride, part of the end padding may never be reached, and how much
  // depends on the input size. Crop/zero-pad to x's size at run time instead.
  const n = p.k.length;
  const spatial = Array.from({ length: n }, (_, i) => i + 2);
  const full = e.op('ConvTranspose', [gy, w], convAttrsOf(p, p.pb, Array(n).fill(0)));
  const ct = e.op('Slice', [full, e.i64(Array(n).fill(0)), e.dims(x, 2, 0), e.i64(spatial)]);
  // Rows that no window reached get zero gradient.
  const rem = e.op('Sub', [e.dims(x, 2, 0), e.dims(ct, 2, 0)]);
  const pads = e.op('Concat', [e.i64(Array(n + 4).fill(0)), rem], { axis: attr.int(0) });
  return e.op('Pad', [ct, pads]);
}

/**
 * dL/dw of a convolution with input `a` and output gradient `b`, as a Conv that treats channels
 * as batch: dW[o, i, κ] = Σ b[n,o,j] · a[n,i, j·s + κ·d − pb]. Result dims follow wDims.
 */
export function convWeightGrad(e: Emitter, a: string, b: string, p: ConvParams, wDims: number[] | undefined, label: string): string {
  const n = p.k.length;
  const spatial = Array.from({ length: n }, (_, i) => i + 2);
  const swap = { perm: attr.ints([1, 0, ...spatial]) };
  const at = e.op('Transpose', [a], swap);
  const bt = e.op('Transpose', [b], swap);
  // Forward stride becomes dilation and forward dilation becomes stride.
  const full = e.op('Conv', [at, bt], convAttrsOf({ ...p, group: 1 }, p.pb, p.pe, { strides: p.dilations, dilations: p.strides, kernel: false }));
  const cut = e.slice(full, Array(n).fill(0), p.k, spatial);
  const dw = e.op('Transpose', [cut], swap);
  if (p.group === 1) return dw;
  if (!wDims || wDims.slice(0, 2).some((d) => d < 0)) throw new UnsupportedOpError('Conv', label, 'grouped conv weight gradient needs a weight of known shape');
  // All channel pairs were correlated; keep the block diagonal that the groups connect.
  const [co, cig] = wDims;
  const cog = co / p.group;
  const mask = new Float32Array(co * p.group);
  for (let o = 0; o < co; o++) mask[o * p.group + Math.floor(o / cog)] = 1;
  const m = e.b.constF(mask, [co, p.group, 1, ...p.k.map(() => 1)], 'group_mask');
  const r = e.op('Reshape', [dw, e.i64([co, p.group, cig, ...p.k])]);
  return e.reduceSum(e.mul(r, m), [1], false);
}

export function biasGrad(e: Emitter, gy: string, p: ConvParams): string {
  return e.reduceSum(gy, [0, ...p.k.map((_, i) => i + 2)], false);
}
