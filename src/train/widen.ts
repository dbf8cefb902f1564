/**
 * A wider and deeper U that computes exactly what a trained U does (Net2Net-style growth), so
 * that upscalers of several sizes start from the same function and a size comparison measures
 * capacity, not initialisation luck:
 * - new channels of each conv get He-normal weights in, and zero weights out to the next layer;
 * - new hidden layers start as the identity on the old channels, with a linear PReLU there.
 */
import type { Rng } from '../shared/rng.js';
import { hiddenOf, type PairArch } from './nets.js';
import type { Param, Params } from './params.js';

function get(p: Params, name: string): Param {
  const v = p.get(name);
  if (!v) throw new Error(`missing parameter ${name}`);
  return v;
}

/** A [co, ci, 3, 3] conv: `old(o, i, tap)` on the first oco x oci block, zero from the new inputs, He-normal into the new outputs. */
function grownConv(co: number, ci: number, oco: number, oci: number, rng: Rng, old: (o: number, i: number, tap: number) => number): Param {
  const data = new Float32Array(co * ci * 9);
  const std = Math.sqrt(2 / (ci * 9));
  for (let o = 0; o < co; o++)
    for (let i = 0; i < ci; i++)
      for (let t = 0; t < 9; t++) data[(o * ci + i) * 9 + t] = o >= oco ? std * rng.normal() : i < oci ? old(o, i, t) : 0;
  return { dims: [co, ci, 3, 3], data };
}

function grown(n: number, src: Float32Array, rest: number): Float32Array {
  const out = new Float32Array(n).fill(rest);
  out.set(src);
  return out;
}

const weightsOf = (w: Param) => (o: number, i: number, t: number) => w.data[(o * w.dims[1] + i) * 9 + t];

/**
 * U of `to` (wider and at least as deep as `from`, same scale) from the U of `from` in `p`, with
 * the same output on every input. Other tensors (D) are kept; a recurrent first conv stays recurrent.
 */
export function widenUp(p: Params, from: PairArch, to: PairArch, rng: Rng): Params {
  const c0 = from.upChannels;
  const c = to.upChannels;
  const l0 = hiddenOf(from, 'up');
  const l = hiddenOf(to, 'up');
  if (to.scale !== from.scale || c < c0 || l < l0) throw new Error(`widenUp: ${c}x${l} at x${to.scale} does not contain ${c0}x${l0} at x${from.scale}`);
  const out: Params = new Map([...p].filter(([k]) => !k.startsWith('up.')));
  for (let i = 0; i <= l; i++) {
    const name = `up.c${i}`;
    if (i <= l0) {
      const w = get(p, `${name}.w`);
      out.set(`${name}.w`, grownConv(c, i === 0 ? w.dims[1] : c, c0, w.dims[1], rng, weightsOf(w)));
      out.set(`${name}.b`, { dims: [c], data: grown(c, get(p, `${name}.b`).data, 0) });
      out.set(`${name}.a`, { dims: [c, 1, 1], data: grown(c, get(p, `${name}.a`).data, 0.1) });
    } else {
      // a new layer passes the old channels through: the identity's centre tap, a linear PReLU
      out.set(`${name}.w`, grownConv(c, c, c0, c0, rng, (o, j, t) => (o === j && t === 4 ? 1 : 0)));
      out.set(`${name}.b`, { dims: [c], data: new Float32Array(c) });
      out.set(`${name}.a`, { dims: [c, 1, 1], data: grown(c, new Float32Array(c0).fill(1), 0.1) });
    }
  }
  const w = get(p, 'up.out.w');
  const ow = new Float32Array(w.dims[0] * c * 9);
  for (let o = 0; o < w.dims[0]; o++) for (let i = 0; i < c0; i++) for (let t = 0; t < 9; t++) ow[(o * c + i) * 9 + t] = w.data[(o * c0 + i) * 9 + t];
  out.set('up.out.w', { dims: [w.dims[0], c, 3, 3], data: ow });
  out.set('up.out.b', get(p, 'up.out.b'));
  out.set('up.res.w', get(p, 'up.res.w'));
  return out;
}
