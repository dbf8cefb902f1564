import { GraphBuilder, attr, convAttrs } from '../../src/encoder/graph/builder.js';
import { encodeModel } from '../../src/encoder/graph/proto.js';

/** Fixed pseudo-random weights: the same numbers on every run and machine. */
function weights(n: number, seed: number, amp: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin((i + 1) * 12.9898 + seed * 78.233) * amp);
}

export interface TestUpscaler {
  bytes: Uint8Array;
  params: number;
  /** LR pixels each output pixel depends on, on each side. */
  radius: number;
  macsPerPixel: number;
}

/**
 * An x2 upscaler for tests and benchmarks: nearest-neighbour upsampling (a 1x1 conv that copies
 * each channel into the four sub-pixel slots, then DepthToSpace) plus a learned-looking residual
 * from `layers` 3x3 convs (the first `first`x`first`) with fixed pseudo-random weights.
 * Conv attributes are explicit (WebGPU in onnxruntime-web needs them); shapes are dynamic.
 * Of the player's own kernels' pattern (src/player/kernels/plan.ts) unless `outsidePattern`.
 */
export function buildX2Upscaler(opts: { features?: number; layers?: number; first?: number; amp?: number; outsidePattern?: boolean } = {}): TestUpscaler {
  const f = opts.features ?? 8;
  const layers = Math.max(2, opts.layers ?? 2);
  const first = opts.first ?? 3;
  const amp = opts.amp ?? 0.15;
  const g = new GraphBuilder('x2');
  g.input('lr', [1, 3, 'H', 'W']);
  let params = 0;
  let macs = 0;
  let radius = 0;
  let h = 'lr';
  let cin = 3;
  for (let l = 0; l < layers; l++) {
    const last = l === layers - 1;
    const k = l === 0 ? first : 3;
    const cout = last ? 12 : f;
    const w = g.constF(weights(cout * cin * k * k, l + 1, amp / Math.sqrt(cin * k * k) * 3), [cout, cin, k, k], 'w');
    const b = g.constF(weights(cout, l + 11, 0.02), [cout], 'b');
    h = g.op('Conv', [h, w, b], convAttrs(k));
    if (!last) h = g.op('Relu', [h]);
    params += cout * cin * k * k + cout;
    macs += (cout * cin * k * k) / 4; // per HR pixel
    radius += (k - 1) / 2;
    cin = cout;
  }
  // skip: channel c copied to sub-pixel slots (i*2+j)*3 + c, which DCR DepthToSpace reads back
  const skipW = new Float32Array(12 * 3);
  for (let blk = 0; blk < 4; blk++) for (let c = 0; c < 3; c++) skipW[(blk * 3 + c) * 3 + c] = 1;
  const skip = g.op('Conv', ['lr', g.constF(skipW, [12, 3, 1, 1], 'skip')], convAttrs(1));
  const sum = g.op('Add', [h, skip]);
  // outsidePattern: the same network ending in an Identity, which the player's own kernels do not
  // take: onnxruntime-web runs it
  const d2s = g.op('DepthToSpace', [sum], { blocksize: attr.int(2), mode: attr.string('DCR') }, opts.outsidePattern ? 'd2s' : 'hr');
  if (opts.outsidePattern) g.op('Identity', [d2s], {}, 'hr');
  g.output('hr', [1, 3, 'H2', 'W2']);
  return { bytes: encodeModel(g.toModel()), params, radius, macsPerPixel: macs };
}

/** The benchmark's stand-in for hcd-x2 at the upscaler budget: FSRCNN-class, under 10K parameters. */
export function buildStandInX2(): TestUpscaler {
  return buildX2Upscaler({ features: 16, layers: 4, first: 5 });
}
