import { buildGradientModel } from '../encoder/graph/autodiff/index.js';
import { attr, GraphBuilder, valueInfo } from '../encoder/graph/builder.js';
import type { ModelProto } from '../encoder/graph/proto.js';
import { addChroma420 } from '../encoder/graph/chroma.js';
import { addCodecProxy, addRateProxy } from './codec.js';
import { addBicubicDown, addDownscaler, addUpscaler, type PairArch, type UpHead } from './nets.js';
import type { Params } from './params.js';

/** What the LR goes through before the codec: 4:2:0 (as streamed), RGB as is, or a per-sample mix. */
export type ChromaMode = '420' | '444' | 'mix';

/**
 * The training objective as one ONNX graph over a batch of HR crops 'x' [N,3,P,P] and codec
 * quantizer steps 'steps' [N,192,1,1]:
 *
 *   lr   = D(x)
 *   q    = round(clip(lr, 0, 1) * 255) / 255          (8-bit rendition, straight-through)
 *   s    = S(q)                                      (4:2:0 chroma round trip, with chroma '420')
 *   c    = C(s; steps)                               (DCT-quantization codec proxy)
 *   loss = mean|U(c) - x| + lambda * mean(|lr - bicubic_down(x)|  or  (lr - bicubic_down(x))²)
 *          [+ rateWeight * R(s)]                      (bit-cost proxy, with rateWeight)
 *
 * Outputs: 'objective', 'rec_mse' (for a training PSNR) and 'lr_guide' (the guidance term).
 */
export interface ObjectiveOptions {
  /** No rounding anywhere (8-bit or codec), so finite differences can check the gradients. */
  smooth?: boolean;
  /** Guidance penalty: L1 pins D to bicubic (every deviation costs the same), L2 lets small ones through. */
  guide?: 'l1' | 'l2';
  /** Only these parameters get gradients; the rest are baked into the graph as constants. */
  trainable?: (name: string) => boolean;
  /**
   * '420': the LR goes through the 4:2:0 round trip of every streamed frame before the codec.
   * 'mix': per sample, as the graph input 'chroma_mask' [N,1,1,1] says (1: 4:2:0, 0: RGB as is).
   */
  chroma?: ChromaMode;
  /**
   * 'x264': no proxy; the graph takes 'codec_res' [N,3,h,w] = real decoded LR minus S(q), added
   * as a constant (straight-through). See ./x264.ts.
   */
  codec?: 'proxy' | 'x264';
  /** Weight of the rate proxy on what enters the codec (addRateProxy); 0 or absent: none. */
  rateWeight?: number;
  /** 'still': every sample goes to the still head (a still stage: lossless RGB stills only). */
  head?: UpHead;
}

export function buildObjective(p: Params, arch: PairArch, lambda: number, opts: ObjectiveOptions = {}): ModelProto {
  const g = new GraphBuilder('hcd_train');
  const x = g.input('x', ['N', 3, 'P', 'P']);
  const codecIn = opts.codec === 'x264' ? g.input('codec_res', ['N', 3, 'h', 'w']) : g.input('steps', ['N', 192, 1, 1]);
  const lr = addDownscaler(g, p, arch, x);
  const { sub } = addLrPath(g, lr, opts);
  // the x264 residual is a constant input, so adding it keeps a smooth graph smooth
  const coded = opts.codec === 'x264' ? g.op('Add', [sub, codecIn]) : opts.smooth ? sub : addCodecProxy(g, sub, codecIn);
  const up = addHeads(g, p, arch, coded, opts);
  const diff = g.op('Sub', [up, x]);
  const rec = g.op('ReduceMean', [g.op('Abs', [diff])], { keepdims: attr.int(0) });
  g.op('ReduceMean', [g.op('Mul', [diff, diff])], { keepdims: attr.int(0) }, 'rec_mse');
  const dev = g.op('Sub', [lr, addBicubicDown(g, arch.scale, x)]);
  const guide = g.op('ReduceMean', [opts.guide === 'l2' ? g.op('Mul', [dev, dev]) : g.op('Abs', [dev])], { keepdims: attr.int(0) }, 'lr_guide');
  let objective = g.op('Add', [rec, g.op('Mul', [guide, g.constF([lambda], [], 'lambda')])]);
  if (opts.rateWeight) {
    const rate = addRateProxy(g, sub, 'rate');
    objective = g.op('Add', [objective, g.op('Mul', [rate, g.constF([opts.rateWeight], [], 'rate_weight')])]);
    g.output('rate', []);
  }
  g.op('Identity', [objective], {}, 'objective');
  g.output('objective', []);
  g.output('rec_mse', []);
  g.output('lr_guide', []);
  return g.toModel({ docString: 'hcd-stream training objective' });
}

/**
 * U on what the codec gave back; with the still head (chroma 'mix' only), each sample goes to the
 * head for its kind: still + m * (U - still), m = 1 for 4:2:0 samples, 0 for RGB ones.
 */
function addHeads(g: GraphBuilder, p: Params, arch: PairArch, coded: string, opts: ObjectiveOptions): string {
  if (opts.head === 'still') return addUpscaler(g, p, arch, coded, undefined, 'still');
  const up = addUpscaler(g, p, arch, coded);
  if (!arch.stillHead) return up;
  if (opts.chroma !== 'mix') throw new Error('the still head trains under chroma mix, where some samples are RGB');
  const still = addUpscaler(g, p, arch, coded, undefined, 'still');
  return g.op('Add', [still, g.op('Mul', ['chroma_mask', g.op('Sub', [up, still])])]);
}

/** Q (unless smooth) and then S: the 8-bit rendition and what enters the codec. */
function addLrPath(g: GraphBuilder, lr: string, opts: ObjectiveOptions): { q: string; sub: string } {
  const clipped = g.op('Clip', [lr, g.constF([0], [], 'zero'), g.constF([1], [], 'one')]);
  const c255 = g.constF([255], [], 'c255');
  const q = opts.smooth ? clipped : g.op('Div', [g.op('Round', [g.op('Mul', [clipped, c255])]), c255]);
  if (opts.chroma === '420') return { q, sub: addChroma420(g, q) };
  if (opts.chroma !== 'mix') return { q, sub: q };
  // q + m * (S(q) - q): linear in q for a fixed mask, so the gradient stays exact; addHeads reads the mask too
  const mask = g.input('chroma_mask', ['N', 1, 1, 1]);
  return { q, sub: g.op('Add', [q, g.op('Mul', [mask, g.op('Sub', [addChroma420(g, q), q])])]) };
}

/**
 * The forward half before the codec, for `--codec x264`: 'q' (the 8-bit LR the codec gets) and
 * 'sub' (S(q), what the objective adds the codec residual to). With `feedDown`, D's weights are
 * graph inputs fed by name, so one session follows a D that trains.
 */
export function buildLrModel(p: Params, arch: PairArch, opts: ObjectiveOptions & { feedDown?: boolean } = {}): ModelProto {
  const g = new GraphBuilder('hcd_lr');
  const x = g.input('x', ['N', 3, 'P', 'P']);
  const { q, sub } = addLrPath(g, addDownscaler(g, p, arch, x), opts);
  g.op('Identity', [q], {}, 'q');
  g.op('Identity', [sub], {}, 'sub');
  g.output('q', ['N', 3, 'h', 'w']);
  g.output('sub', ['N', 3, 'h', 'w']);
  const model = g.toModel({ docString: 'hcd-stream training LR path' });
  if (!opts.feedDown || !model.graph) return model;
  const down = (n: string | null | undefined) => p.has(n ?? '') && (n ?? '').startsWith('down.');
  const graph = model.graph;
  graph.input = [...(graph.input ?? []), ...(graph.initializer ?? []).filter((t) => down(t.name)).map((t) => valueInfo(t.name ?? '', (t.dims ?? []).map(Number)))];
  graph.initializer = (graph.initializer ?? []).filter((t) => !down(t.name));
  return model;
}

/** The objective plus dL/dw for every trainable parameter: feeds x, steps and those weights by name. */
export function buildTrainingModel(p: Params, arch: PairArch, lambda: number, opts: ObjectiveOptions = {}): ModelProto {
  const wrt = [...p.keys()].filter((n) => opts.trainable?.(n) ?? true);
  return buildGradientModel(buildObjective(p, arch, lambda, opts), { wrt, loss: { kind: 'scalar', output: 'objective' }, keepOutputs: true });
}
