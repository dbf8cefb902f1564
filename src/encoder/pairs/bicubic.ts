import { attr, convAttrs, GraphBuilder } from '../graph/builder.js';
import type { ModelProto } from '../graph/proto.js';

/**
 * Bicubic down- and upscaling as fixed convolutions, matching MATLAB `imresize(..., 'bicubic')`
 * for integer scales: the kernel weights are the same for every output pixel, so the resampling
 * is exactly a strided depthwise Conv (down) or a phase Conv + DepthToSpace (up).
 *
 * The one difference from MATLAB is at the borders: MATLAB mirrors with the edge pixel repeated
 * (symmetric), ONNX Pad has only `reflect` (edge pixel not repeated), so the outermost few pixels
 * differ slightly. docs/pairs.md gives the measured effect.
 */

/** Keys' cubic convolution kernel with a = -0.5, as in MATLAB imresize. */
export function cubic(x: number): number {
  const a = Math.abs(x);
  const a2 = a * a;
  const a3 = a2 * a;
  if (a <= 1) return 1.5 * a3 - 2.5 * a2 + 1;
  if (a < 2) return -0.5 * a3 + 2.5 * a2 - 4 * a + 2;
  return 0;
}

export interface DownTaps {
  /** Normalized 1-D weights, applied to input pixels s*i - padBefore + t. */
  weights: number[];
  padBefore: number;
  padAfter: number;
}

/**
 * The 1-D kernel for downscaling by `s`. Output pixel i (0-based) sits at input coordinate
 * s*i + (s-1)/2. With antialiasing (MATLAB) the cubic is stretched by s: 4*s taps for even s.
 * Without it (TF's `resize_bicubic`, which some pretrained upscalers were trained on) the cubic
 * is sampled as is: 4 taps, aliasing included.
 */
export function downTaps(s: number, antialias = true): DownTaps {
  const centre = (s - 1) / 2;
  const stretch = antialias ? s : 1;
  const oMin = Math.floor(centre - 2 * stretch) + 1;
  const oMax = Math.ceil(centre + 2 * stretch) - 1;
  const raw: number[] = [];
  for (let o = oMin; o <= oMax; o++) raw.push(cubic((centre - o) / stretch) / stretch);
  const sum = raw.reduce((a, b) => a + b, 0);
  return { weights: raw.map((w) => w / sum), padBefore: -oMin, padAfter: oMax - s + 1 };
}

/**
 * 1-D weights of each output phase r (output pixel s*i + r) over input pixels i-2..i+2.
 * Half-pixel centres: output r maps to input i + (r + 0.5)/s - 0.5.
 */
export function upPhaseWeights(s: number): number[][] {
  const phases: number[][] = [];
  for (let r = 0; r < s; r++) {
    const d = (r + 0.5) / s - 0.5;
    const w = [-2, -1, 0, 1, 2].map((o) => cubic(d - o));
    const sum = w.reduce((a, b) => a + b, 0);
    phases.push(w.map((v) => v / sum));
  }
  return phases;
}

function reflectPad(g: GraphBuilder, x: string, before: number, after: number): string {
  if (before === 0 && after === 0) return x;
  const pads = g.constI64([0, 0, before, before, 0, 0, after, after], [8], 'pads');
  return g.op('Pad', [x, pads], { mode: attr.string('reflect') });
}

/** Canonical bicubic downscaler: 'x' [1,3,H,W] -> 'y' [1,3,H/s,W/s], 0-1 in and out. */
export function bicubicDownModel(s: number, opts: { antialias?: boolean } = {}): ModelProto {
  const antialias = opts.antialias ?? true;
  const { weights, padBefore, padAfter } = downTaps(s, antialias);
  const k = weights.length;
  const g = new GraphBuilder(`bicubic_down_x${s}`);
  const x = g.input('x', [1, 3, 'H', 'W']);
  const padded = reflectPad(g, x, padBefore, padAfter);
  const w = new Float32Array(3 * k * k);
  for (let c = 0; c < 3; c++)
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) w[c * k * k + i * k + j] = weights[i] * weights[j];
  const wName = g.constF(w, [3, 1, k, k], 'down_w');
  g.op('Conv', [padded, wName], convAttrs(k, { stride: s, pad: 0, group: 3 }), 'y');
  g.output('y', [1, 3, 'h', 'w']);
  const kind = antialias ? 'MATLAB-style antialiased' : 'TF-style non-antialiased';
  return g.toModel({ docString: `${kind} bicubic downscaling by ${s} (reflect borders)` });
}

/** Canonical bicubic upscaler: 'x' [1,3,h,w] -> 'y' [1,3,h*s,w*s], 0-1 in and out. */
export function bicubicUpModel(s: number): ModelProto {
  const phases = upPhaseWeights(s);
  const g = new GraphBuilder(`bicubic_up_x${s}`);
  const x = g.input('x', [1, 3, 'h', 'w']);
  const padded = reflectPad(g, x, 2, 2);
  // DepthToSpace's default DCR order wants channel (ry*s + rx)*3 + c, which a grouped Conv
  // cannot produce, so this is a full 3 -> 3*s*s Conv with zero cross-channel weights.
  const outC = 3 * s * s;
  const w = new Float32Array(outC * 3 * 25);
  for (let ry = 0; ry < s; ry++)
    for (let rx = 0; rx < s; rx++)
      for (let c = 0; c < 3; c++) {
        const oc = (ry * s + rx) * 3 + c;
        for (let ky = 0; ky < 5; ky++)
          for (let kx = 0; kx < 5; kx++) w[((oc * 3 + c) * 5 + ky) * 5 + kx] = phases[ry][ky] * phases[rx][kx];
      }
  const wName = g.constF(w, [outC, 3, 5, 5], 'up_w');
  const phased = g.op('Conv', [padded, wName], convAttrs(5, { pad: 0 }));
  g.op('DepthToSpace', [phased], { blocksize: attr.int(s), mode: attr.string('DCR') }, 'y');
  g.output('y', [1, 3, 'H', 'W']);
  return g.toModel({ docString: `bicubic (a=-0.5, half-pixel centres) upscaling by ${s} (reflect borders)` });
}
