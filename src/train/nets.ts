import { attr, convAttrs, type GraphBuilder } from '../encoder/graph/builder.js';
import { downTaps, upPhaseWeights } from '../encoder/pairs/bicubic.js';
import { CBCR_TO_RGB, RGB_TO_CBCR } from '../encoder/graph/chroma.js';
import { initConv, initPrelu, type Params } from './params.js';
import type { Rng } from '../shared/rng.js';

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
  /**
   * A second upscaler of U's shape (parameters 'still.*') for lossless RGB LR (PNG stills), while
   * U ('up.*') serves the streamed frames, which are always 4:2:0: neither has to tell the two kinds
   * of input apart. One D serves both (with hideChannels, through detail only the RGB LR keeps).
   * Absent: one upscaler for everything.
   */
  stillHead?: boolean;
  /** Hidden 3x3 convs of the still head (default upHidden): it runs once per still, not per frame. */
  stillHidden?: number;
  /**
   * Width of D's hiding branch (parameters 'hide.*'; absent or 0: none). It writes into D's LR
   * colour detail that 4:2:0 removes exactly: per 2x2 LR block, two patterns in each of Cb and Cr
   * that alternate across each horizontal pair (replacing the LR's own components along them), Y
   * untouched. The encoder's conversion averages chroma over those pairs, so the streamed frame,
   * its bits and U's input stay what they were without the branch (but for 8-bit rounding); a
   * lossless RGB LR keeps the detail for the still head. The LR sides must then be even.
   */
  hideChannels?: number;
  /** 3x3 convs between the first and the last of the hiding branch (default 1). */
  hideHidden?: number;
}

/**
 * The patterns per chroma channel, in DepthToSpace CRD order (ry*2 + rx): columns and checkerboard,
 * both +a/-a across each horizontal pair. The encoder's conversion (ffmpeg's RGB input path)
 * averages chroma over exactly those pairs before it filters vertically, and the training's 4:2:0
 * stage over 2x2 blocks, so both remove them entirely. A vertical dipole would be zero-mean too,
 * but ffmpeg's vertical chroma filter reaches into the next blocks (test/train/still.test.ts).
 */
const HIDE_PATTERNS = [
  [1, -1, 1, -1],
  [1, -1, -1, 1],
];
const NP = HIDE_PATTERNS.length;

/** Hidden convs of an upscaler head. */
export function hiddenOf(arch: PairArch, head: UpHead): number {
  return head === 'still' ? (arch.stillHidden ?? arch.upHidden) : arch.upHidden;
}

/** Parameter prefix of each upscaler head: 'up' for the streamed frames, 'still' for lossless RGB stills. */
export type UpHead = 'up' | 'still';

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
  // --- U (and the still head) ---
  const cu = arch.upChannels;
  for (const head of arch.stillHead ? (['up', 'still'] as const) : (['up'] as const)) {
    initConv(p, rng, `${head}.c0`, cu, 3, 3);
    initPrelu(p, `${head}.c0`, cu);
    for (let i = 1; i <= hiddenOf(arch, head); i++) {
      initConv(p, rng, `${head}.c${i}`, cu, cu, 3);
      initPrelu(p, `${head}.c${i}`, cu);
    }
    // the last convs start at zero so the untrained pair is exactly the bicubic pair
    initConv(p, rng, `${head}.out`, 3 * s * s, cu, 3, 0);
    p.set(`${head}.res.w`, { dims: [3 * s * s, 1, 5, 5], data: bicubicUpWeights(s) });
  }
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
  // --- D's hiding branch, at half the LR resolution (one position per 2x2 LR block) ---
  const ch = arch.hideChannels ?? 0;
  if (ch > 0) {
    initConv(p, rng, 'hide.c0', ch, 3 * 4 * s * s, 3);
    initPrelu(p, 'hide.c0', ch);
    for (let i = 1; i <= (arch.hideHidden ?? 1); i++) {
      initConv(p, rng, `hide.c${i}`, ch, ch, 3);
      initPrelu(p, `hide.c${i}`, ch);
    }
    // the pattern amplitudes for Cb, then Cr; zero, so the branch starts as D without it
    initConv(p, rng, 'hide.out', 2 * NP, ch, 3, 0);
  }
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

/** U (or the still head): LR 'x' [N,3,h,w] -> HR [N,3,h*s,w*s], unclamped. */
export function addUpscaler(g: GraphBuilder, p: Params, arch: PairArch, x: string, out?: string, head: UpHead = 'up', prev?: string): string {
  const s = arch.scale;
  // recurrent: U's own previous output [N,3,H,W] enters at LR size, by space-to-depth, beside the frame
  const input = prev ? g.op('Concat', [x, g.op('SpaceToDepth', [prev], { blocksize: attr.int(s) })], { axis: attr.int(1) }) : x;
  let h = conv(g, p, input, `${head}.c0`, true);
  for (let i = 1; i <= hiddenOf(arch, head); i++) h = conv(g, p, h, `${head}.c${i}`, true);
  h = conv(g, p, h, `${head}.out`, false);
  const res = g.op('Conv', [reflectPad(g, x, 2, 2), weight(g, p, `${head}.res.w`)], convAttrs(5, { pad: 0, group: 3 }));
  const sum = g.op('Add', [h, res]);
  return g.op('DepthToSpace', [sum], { blocksize: attr.int(s), mode: attr.string('CRD') }, out);
}

/**
 * U's weights made recurrent: its first conv takes the previous output's 3·s² space-to-depth
 * channels after the frame's 3, with zero weights, so the recurrent U starts as exactly this U.
 */
export function recurrentUp(p: Params, scale: number): Params {
  const out: Params = new Map(p);
  const w = p.get('up.c0.w');
  if (!w) throw new Error('missing parameter up.c0.w');
  const [co, ci, k] = w.dims;
  const extra = 3 * scale * scale;
  const data = new Float32Array(co * (ci + extra) * k * k);
  for (let o = 0; o < co; o++) data.set(w.data.subarray(o * ci * k * k, (o + 1) * ci * k * k), o * (ci + extra) * k * k);
  out.set('up.c0.w', { dims: [co, ci + extra, k, k], data });
  return out;
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
  if (!arch.hideChannels) return g.op('Add', [h, res], {}, out);
  const base = g.op('Add', [h, res]);
  return g.op('Add', [base, addHidden(g, p, arch, x, base)], {}, out);
}

/**
 * The hiding branch: what it adds to D's LR `base` (HR [N,3,H,W], H and W multiples of 2s): zero
 * Y, and in Cb and Cr only the patterns' components. It replaces the base's own components along
 * the patterns with its amplitudes, so the still head finds there what the branch wrote and never
 * the picture's own colour texture (strongly coloured fine texture was misread as hidden detail
 * before); 4:2:0 removes either the same way.
 */
function addHidden(g: GraphBuilder, p: Params, arch: PairArch, x: string, base: string): string {
  let h = conv(g, p, g.op('SpaceToDepth', [x], { blocksize: attr.int(2 * arch.scale) }), 'hide.c0', true);
  for (let i = 1; i <= (arch.hideHidden ?? 1); i++) h = conv(g, p, h, `hide.c${i}`, true);
  h = conv(g, p, h, 'hide.out', false);
  // the base's own amplitudes along the (orthonormal) patterns, per 2x2 block and chroma channel
  const proj = new Float32Array(2 * NP * 4);
  for (let c = 0; c < 2; c++) for (let j = 0; j < NP; j++) for (let k = 0; k < 4; k++) proj[(c * NP + j) * 4 + k] = HIDE_PATTERNS[j][k] / 2;
  const baseCbcr = g.op('Conv', [base, g.constF(RGB_TO_CBCR, [2, 3, 1, 1], 'hide_rgb2cbcr')], convAttrs(1));
  const own = g.op('Conv', [baseCbcr, g.constF(proj, [2 * NP, 1, 2, 2], 'hide_proj')], convAttrs(2, { stride: 2, pad: 0, group: 2 }));
  h = g.op('Sub', [h, own]);
  // amplitudes -> the 4 values of each block (unit-norm patterns), per chroma channel
  const basis = new Float32Array(8 * NP);
  for (let c = 0; c < 2; c++) for (let k = 0; k < 4; k++) for (let j = 0; j < NP; j++) basis[(c * 4 + k) * NP + j] = HIDE_PATTERNS[j][k] / 2;
  const blocks = g.op('Conv', [h, g.constF(basis, [8, NP, 1, 1], 'hide_basis')], convAttrs(1, { group: 2 }));
  const cbcr = g.op('DepthToSpace', [blocks], { blocksize: attr.int(2), mode: attr.string('CRD') });
  return g.op('Conv', [cbcr, g.constF(CBCR_TO_RGB, [3, 2, 1, 1], 'hide_cbcr2rgb')], convAttrs(1));
}

/** Fixed (non-trainable) bicubic downscaling, the LR guidance target. */
export function addBicubicDown(g: GraphBuilder, s: number, x: string): string {
  const bd = bicubicDownWeights(s);
  const w = g.constF(bd.w, [3, 1, bd.k, bd.k], 'bicubic_down_w');
  return g.op('Conv', [reflectPad(g, x, bd.padBefore, bd.padAfter), w], convAttrs(bd.k, { stride: s, pad: 0, group: 3 }));
}
