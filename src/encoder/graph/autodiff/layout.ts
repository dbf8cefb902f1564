import { attrString } from '../attrs.js';
import { attr } from '../builder.js';
import { DataType } from '../proto.js';
import { END, type Emitter, type VjpContext } from './emit.js';
import { UnsupportedOpError } from './errors.js';

/** Backward rules of ops that move data around: Slice, Pad, Resize. Shape-dependent parts run at run time. */

function rankOrThrow(c: VjpContext, x: string): number {
  const r = c.rankOf(x);
  if (r === undefined) throw new UnsupportedOpError(c.node.opType ?? '', c.label, 'input rank unknown');
  return r;
}

function toI64(e: Emitter, t: string): string {
  return e.op('Cast', [t], { to: attr.int(DataType.INT64) });
}

/** Slice backward: zero-pad g back to x's shape; begin/end pads come from clamped starts/ends at run time. */
export function sliceGrad(c: VjpContext): string {
  const { e } = c;
  const [x, starts, ends, axesIn, stepsIn] = c.inputs;
  const r = rankOrThrow(c, x);
  const steps = stepsIn ? e.info.constNumbers(stepsIn) : undefined;
  if (stepsIn && (!steps || steps.some((s) => s !== 1))) throw new UnsupportedOpError('Slice', c.label, 'steps other than 1');
  const count = e.info.constNumbers(starts)?.length ?? e.info.constNumbers(axesIn)?.length;
  let axes = axesIn ? e.info.constNumbers(axesIn) : count !== undefined ? [...Array(count).keys()] : undefined;
  if (!axes) throw new UnsupportedOpError('Slice', c.label, 'axes computed at run time');
  axes = axes.map((a) => (a < 0 ? a + r : a));
  const d = e.op('Gather', [e.shape(x), e.i64(axes)]);
  const zero = e.i64([0]);
  const clamp = (v: string) => {
    const n = e.op('Where', [e.op('Less', [v, zero]), e.op('Add', [v, d]), v]);
    return e.op('Min', [e.op('Max', [n, zero]), d]);
  };
  const s = clamp(toI64(e, starts));
  const en = e.op('Max', [clamp(toI64(e, ends)), s]);
  const after = e.op('Sub', [d, en]);
  const pick = (v: string) =>
    [...Array(r).keys()].map((i) => {
      const k = axes.indexOf(i);
      return k < 0 ? zero : e.op('Slice', [v, e.i64([k]), e.i64([k + 1])]);
    });
  const pads = e.op('Concat', [...pick(s), ...pick(after)], { axis: attr.int(0) });
  return e.op('Pad', [c.gradOut(), pads]);
}

function concat(e: Emitter, parts: string[], axis: number): string {
  return e.op('Concat', parts, { axis: attr.int(axis) });
}

function reverse(e: Emitter, t: string, axis: number): string {
  return e.slice(t, [-1], [-END], [axis], [-1]);
}

/** Pad backward: crop the centre, then fold reflect/edge borders back onto the rows they copied. */
export function padGrad(c: VjpContext): string {
  const { e } = c;
  const [x, padsIn, , axesIn] = c.inputs;
  const mode = attrString(c.node, 'mode', 'constant');
  const pads = e.info.constNumbers(padsIn);
  if (!pads) throw new UnsupportedOpError('Pad', c.label, 'pads computed at run time');
  const half = pads.length / 2;
  let axes = axesIn ? e.info.constNumbers(axesIn) : [...Array(half).keys()];
  if (!axes) throw new UnsupportedOpError('Pad', c.label, 'axes computed at run time');
  if (axes.some((a) => a < 0)) {
    const r = rankOrThrow(c, x);
    axes = axes.map((a) => (a < 0 ? a + r : a));
  }
  if (pads.some((p) => p < 0)) throw new UnsupportedOpError('Pad', c.label, 'negative pads');
  if (!['constant', 'reflect', 'edge'].includes(mode)) throw new UnsupportedOpError('Pad', c.label, `mode ${mode}`);
  let g = c.gradOut();
  axes.forEach((a, i) => {
    const p = pads[i];
    const q = pads[i + half];
    if (!p && !q) return;
    let mid = e.slice(g, [p], [q ? -q : END], [a]);
    if (mode === 'reflect') {
      // x[k] also fed out[p−k] (k=1..p) and out[p+n−1+j] fed x[n−1−j] (j=1..q).
      if (p) {
        const left = reverse(e, e.slice(g, [0], [p], [a]), a);
        mid = concat(e, [e.slice(mid, [0], [1], [a]), e.op('Add', [e.slice(mid, [1], [p + 1], [a]), left]), e.slice(mid, [p + 1], [END], [a])], a);
      }
      if (q) {
        const right = reverse(e, e.slice(g, [-q], [END], [a]), a);
        mid = concat(e, [e.slice(mid, [0], [-(q + 1)], [a]), e.op('Add', [e.slice(mid, [-(q + 1)], [-1], [a]), right]), e.slice(mid, [-1], [END], [a])], a);
      }
    } else if (mode === 'edge') {
      if (p) {
        const left = e.reduceSum(e.slice(g, [0], [p], [a]), [a], true);
        mid = concat(e, [e.op('Add', [e.slice(mid, [0], [1], [a]), left]), e.slice(mid, [1], [END], [a])], a);
      }
      if (q) {
        const right = e.reduceSum(e.slice(g, [-q], [END], [a]), [a], true);
        mid = concat(e, [e.slice(mid, [0], [-1], [a]), e.op('Add', [e.slice(mid, [-1], [END], [a]), right])], a);
      }
    }
    g = mid;
  });
  return g;
}

/** Coordinate maps x_orig = (i + a)/s − b that make integer-scale Resize a fixed stencil. */
const COORD: Record<string, [number, number]> = {
  half_pixel: [0.5, 0.5],
  pytorch_half_pixel: [0.5, 0.5],
  asymmetric: [0, 0],
};

/** 1-D linear-interpolation stencil over the edge-padded input: weight of xp[j] for output i is k(i − s·j). */
function linearStencil(s: number, a: number, b: number): { w: number[]; padBegin: number; padEnd: number } {
  const cshift = a + s * (1 - b);
  const tmin = Math.floor(-s - cshift) + 1;
  const tmax = Math.ceil(s - cshift) - 1;
  const w: number[] = [];
  for (let t = tmin; t <= tmax; t++) w.push(Math.max(0, 1 - Math.abs((t + cshift) / s)));
  return { w, padBegin: -tmin, padEnd: s + tmax + 1 };
}

/** Resize backward for integer up-scales of the last two axes: nearest = sum pooling, linear = strided stencil Conv. */
export function resizeGrad(c: VjpContext): string {
  const { e } = c;
  const [x, , scalesIn, sizesIn] = c.inputs;
  const scales = scalesIn ? e.info.constNumbers(scalesIn) : undefined;
  if (!scales || !scales.length) {
    throw new UnsupportedOpError('Resize', c.label, sizesIn ? 'sizes input (give constant scales)' : 'scales computed at run time');
  }
  if (scales.length !== 4 || scales[0] !== 1 || scales[1] !== 1 || !scales.slice(2).every((s) => Number.isInteger(s) && s >= 1)) {
    throw new UnsupportedOpError('Resize', c.label, `scales [${scales}] (integer up-scales of H and W only)`);
  }
  const [sh, sw] = scales.slice(2);
  const mode = attrString(c.node, 'mode', 'nearest');
  const ctm = attrString(c.node, 'coordinate_transformation_mode', 'half_pixel');
  const coord = COORD[ctm];
  const g = c.gradOut();
  if (mode === 'nearest') {
    const nm = attrString(c.node, 'nearest_mode', 'round_prefer_floor');
    const blocky = (coord && coord[0] === 0.5 && nm.startsWith('round_prefer')) || (ctm === 'asymmetric' && nm === 'floor');
    if (!blocky) throw new UnsupportedOpError('Resize', c.label, `nearest with ${ctm}/${nm}`);
    // Each input pixel was copied to an sh×sw block: its gradient is the block's sum.
    const pooled = e.op('AveragePool', [g], {
      kernel_shape: attr.ints([sh, sw]),
      strides: attr.ints([sh, sw]),
      pads: attr.ints([0, 0, 0, 0]),
    });
    return sh * sw === 1 ? pooled : e.mul(pooled, e.f(sh * sw));
  }
  if (mode !== 'linear' || !coord) throw new UnsupportedOpError('Resize', c.label, `mode ${mode} with ${ctm}`);
  const kh = linearStencil(sh, coord[0], coord[1]);
  const kw = linearStencil(sw, coord[0], coord[1]);
  const w = new Float32Array(kh.w.length * kw.w.length);
  kh.w.forEach((a, i) => kw.w.forEach((b, j) => (w[i * kw.w.length + j] = a * b)));
  const weight = e.b.constF(w, [1, 1, kh.w.length, kw.w.length], 'resize_stencil');
  // Channels folded into batch so that one single-channel stencil serves any channel count.
  const flat = e.op('Reshape', [g, e.i64([-1, 1, 0, 0])]);
  let xp = e.op('Conv', [flat, weight], {
    kernel_shape: attr.ints([kh.w.length, kw.w.length]),
    strides: attr.ints([sh, sw]),
    pads: attr.ints([kh.padBegin, kw.padBegin, kh.padEnd, kw.padEnd]),
    dilations: attr.ints([1, 1]),
    group: attr.int(1),
  });
  // xp covers the edge-padded input (n+2 per axis): fold its borders onto the edge pixels.
  for (const a of [2, 3]) {
    const inner = e.slice(xp, [1], [-1], [a]);
    const first = e.op('Add', [e.slice(inner, [0], [1], [a]), e.slice(xp, [0], [1], [a])]);
    const withFirst = concat(e, [first, e.slice(inner, [1], [END], [a])], a);
    const last = e.op('Add', [e.slice(withFirst, [-1], [END], [a]), e.slice(xp, [-1], [END], [a])]);
    xp = concat(e, [e.slice(withFirst, [0], [-1], [a]), last], a);
  }
  return e.reshapeLike(xp, x);
}
