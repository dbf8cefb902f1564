/**
 * The recurrent upscaler's training graph: truncated backpropagation through time over a short
 * unroll. U runs on each of `frames` decoded LR frames in turn with its own previous output ('prev'
 * before the first: zeros after a reset at a segment start, a cut or a seek); the loss is the mean
 * squared error over every frame, and its gradient reaches each step's weights through every
 * later output it fed, up to the unroll's end, where the truncation cuts it.
 */
import { attr, GraphBuilder } from '../encoder/graph/builder.js';
import type { ModelProto } from '../encoder/graph/proto.js';
import { addUpscaler, type PairArch } from './nets.js';
import type { Params } from './params.js';

/**
 * Inputs 'prev' and hr0..hr{T-1} [N,3,H,W], lr0..lr{T-1} [N,3,H/s,W/s]; outputs 'loss' and each
 * frame's 'y{t}'. `recurrent: false` runs the frames independently through the plain U (the same
 * recipe without time, to compare against); 'prev' is then still an input, unused.
 */
export function buildRecurrentObjective(p: Params, arch: PairArch, frames: number, recurrent = true): ModelProto {
  const g = new GraphBuilder('hcd_train_recurrent');
  let prev = g.input('prev', ['N', 3, 'H', 'W']);
  const errs: string[] = [];
  for (let t = 0; t < frames; t++) {
    const x = g.input(`lr${t}`, ['N', 3, 'h', 'w']);
    const hr = g.input(`hr${t}`, ['N', 3, 'H', 'W']);
    const y = addUpscaler(g, p, arch, x, `y${t}`, 'up', recurrent ? prev : undefined);
    g.output(`y${t}`, ['N', 3, 'H', 'W']);
    const d = g.op('Sub', [y, hr]);
    errs.push(g.op('ReduceMean', [g.op('Mul', [d, d])], { keepdims: attr.int(0) }));
    prev = y;
  }
  const sum = errs.slice(1).reduce((a, e) => g.op('Add', [a, e]), errs[0]);
  g.op('Div', [sum, g.constF([frames], [], 'frames')], {}, 'loss');
  g.output('loss', []);
  return g.toModel({ docString: 'hcd-stream recurrent upscaler, truncated BPTT objective' });
}
