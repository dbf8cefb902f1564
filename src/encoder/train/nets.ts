import { attr, convAttrs, type GraphBuilder } from '../onnx/builder.js';
import { downTaps, upPhaseWeights } from '../pairs/bicubic.js';
import { initConv, initPrelu, type Params } from './params.js';
import type { Rng } from './rng.js';

/**
 * The asymmetric pair. U runs on every frame in the browser, so it is tiny: a few 3x3 convs at LR
 * resolution ending in s*s*3 channels, added to a learnable copy of bicubic upscaling (grouped
 * phase conv) before DepthToSpace. D runs once per frame on the server: SpaceToDepth to LR
 * resolution, a wider and deeper body, added to a learnable copy of bicubic downscaling.
 * Both residual branches start as exact bicubic, so an untrained pair is the bicubic pair.
 */
export interface PairArch {
  scale: number;
  upChannels: number;
  /** 3x3 convs between the first and the last (each `upChannels` wide). */
  upHidden: number;
  downChannels: number;
  downHidden: number;
}

/**
 * The shipped pairs' shapes. U's depth is set by the browser's WASM budget: with two hidden convs
 * the player's median for a 320x180 -> 640x360 frame on two cores is 29.5 ms, with three it was
 * 33.8 (docs/player.md), and the third conv was worth only ~0.1 dB of validation PSNR
 * (docs/models.md).
 */
export function defaultArch(scale: number): PairArch {
  return scale === 2
    ? { scale, upChannels: 16, upHidden: 2, downChannels: 48, downHidden: 5 }
    : { scale, upChannels: 12, upHidden: 2, downChannels: 48, downHidden: 5 };
}

/** Weights of bicubic downscaling by s as a grouped [3,1,k,k] stride-s conv, and its pads. */
export function bicubicDownWeights(s: number): { w: Float32Array; k: number; padBefore: number; padAfter: number } {
  const { weights, padBefore, padAfter } = downTaps(s, true);
  const k = weights.length;
  const w = new Float32Array(3 * k * k);
  for (let c = 0; c < 3; c++) for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) w[c * k * k + i * k + j] = weights[i] * weights[j];
  return { w, k, padBefore, padAfter };
}

/** Bicubic upscaling phases as a grouped [3*s*s,1,5,5] conv whose output is in CRD order (c*s*s + ry*s + rx). */
export function bicubicUpWeights(s: number): Float32Array {
  const ph = upPhaseWeights(s);
  const w = new Float32Array(3 * s * s * 25);
  for (let c = 0; c < 3; c++)
    for (let ry = 0; ry < s; ry++)
      for (let rx = 0; rx < s; rx++) {
        const oc = c * s * s + ry * s + rx;
        for (let ky = 0; ky < 5; ky++) for (let kx = 0; kx < 5; kx++) w[oc * 25 + ky * 5 + kx] = ph[ry][ky] * ph[rx][kx];
      }
  return w;
}

export function initPair(arch: PairArch, rng: Rng): Params {
  const p: Params = new Map();
  const s = arch.scale;
  // --- U ---
  const cu = arch.upChannels;
  initConv(p, rng, 'up.c0', cu, 3, 3);
  initPrelu(p, 'up.c0', cu);
  for (let i = 1; i <= arch.upHidden; i++) {
    initConv(p, rng, `up.c${i}`, cu, cu, 3);
    initPrelu(p, `up.c${i}`, cu);
  }
  // the last convs start at zero so the untrained pair is exactly the bicubic pair
  initConv(p, rng, 'up.out', 3 * s * s, cu, 3, 0);
  p.set('up.res.w', { dims: [3 * s * s, 1, 5, 5], data: bicubicUpWeights(s) });
  // --- D ---
  const cd = arch.downChannels;
  initConv(p, rng, 'down.c0', cd, 3 * s * s, 3);
  initPrelu(p, 'down.c0', cd);
  for (let i = 1; i <= arch.downHidden; i++) {
    initConv(p, rng, `down.c${i}`, cd, cd, 3);
    initPrelu(p, `down.c${i}`, cd);
  }
  initConv(p, rng, 'down.out', 3, cd, 3, 0);
  const bd = bicubicDownWeights(s);
  p.set('down.res.w', { dims: [3, 1, bd.k, bd.k], data: bd.w });
  return p;
}

/** Adds `name` from `p` as an initializer unless the graph has it already; returns the name. */
function weight(g: GraphBuilder, p: Params, name: string): string {
  if (!g.initializers.some((t) => t.name === name)) {
    const v = p.get(name);
    if (!v) throw new Error(`missing parameter ${name}`);
    g.initializer(name, v.data, v.dims);
  }
  return name;
}

function conv(g: GraphBuilder, p: Params, x: string, name: string, act: boolean): string {
  const w = p.get(`${name}.w`);
  if (!w) throw new Error(`missing parameter ${name}.w`);
  const y = g.op('Conv', [x, weight(g, p, `${name}.w`), weight(g, p, `${name}.b`)], convAttrs(w.dims[2]));
  return act ? g.op('PRelu', [y, weight(g, p, `${name}.a`)]) : y;
}

export function reflectPad(g: GraphBuilder, x: string, before: number, after: number): string {
  if (before === 0 && after === 0) return x;
  const pads = g.constI64([0, 0, before, before, 0, 0, after, after], [8], 'pads');
  return g.op('Pad', [x, pads], { mode: attr.string('reflect') });
}

/** U: LR 'x' [N,3,h,w] -> HR [N,3,h*s,w*s], unclamped. */
export function addUpscaler(g: GraphBuilder, p: Params, arch: PairArch, x: string, out?: string): string {
  const s = arch.scale;
  let h = conv(g, p, x, 'up.c0', true);
  for (let i = 1; i <= arch.upHidden; i++) h = conv(g, p, h, `up.c${i}`, true);
  h = conv(g, p, h, 'up.out', false);
  const res = g.op('Conv', [reflectPad(g, x, 2, 2), weight(g, p, 'up.res.w')], convAttrs(5, { pad: 0, group: 3 }));
  const sum = g.op('Add', [h, res]);
  return g.op('DepthToSpace', [sum], { blocksize: attr.int(s), mode: attr.string('CRD') }, out);
}

/** D: HR 'x' [N,3,H,W] -> LR [N,3,H/s,W/s], unclamped and unquantized. */
export function addDownscaler(g: GraphBuilder, p: Params, arch: PairArch, x: string, out?: string): string {
  const s = arch.scale;
  const d = g.op('SpaceToDepth', [x], { blocksize: attr.int(s) });
  let h = conv(g, p, d, 'down.c0', true);
  for (let i = 1; i <= arch.downHidden; i++) h = conv(g, p, h, `down.c${i}`, true);
  h = conv(g, p, h, 'down.out', false);
  const bd = bicubicDownWeights(s);
  const res = g.op('Conv', [reflectPad(g, x, bd.padBefore, bd.padAfter), weight(g, p, 'down.res.w')], convAttrs(bd.k, { stride: s, pad: 0, group: 3 }));
  return g.op('Add', [h, res], {}, out);
}

/** Fixed (non-trainable) bicubic downscaling, the LR guidance target. */
export function addBicubicDown(g: GraphBuilder, s: number, x: string): string {
  const bd = bicubicDownWeights(s);
  const w = g.constF(bd.w, [3, 1, bd.k, bd.k], 'bicubic_down_w');
  return g.op('Conv', [reflectPad(g, x, bd.padBefore, bd.padAfter), w], convAttrs(bd.k, { stride: s, pad: 0, group: 3 }));
}
