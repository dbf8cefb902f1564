import { attrInt, attrInts } from '../graph/attrs.js';
import { opInfo } from '../graph/ops.js';
import type { ModelProto } from '../graph/proto.js';
import { tensorFromProto } from '../graph/tensor.js';

/**
 * How many input pixels on each side an output pixel can depend on, following the graph from
 * its first input: what tiles must overlap by for seamless tiled inference (the player's
 * UpscalerManifest.receptiveRadius). Each tensor carries its radius in input pixels and its
 * resolution relative to the input; Convs add their half-extent at that resolution, Resize and
 * DepthToSpace raise the resolution, strides and SpaceToDepth lower it.
 */
export function receptiveRadius(model: ModelProto): number {
  const graph = model.graph;
  if (!graph) throw new Error('model has no graph');
  const state = new Map<string, { r: number; f: number }>();
  const first = (graph.input ?? [])[0]?.name ?? '';
  state.set(first, { r: 0, f: 1 });
  const consts = new Map<string, number[]>();
  for (const t of graph.initializer ?? []) {
    const d = tensorFromProto(t);
    if (d.data.length <= 8 && d.data instanceof Float32Array) consts.set(t.name ?? '', Array.from(d.data));
  }
  for (const n of graph.node ?? []) {
    const ins = (n.input ?? []).map((i) => state.get(i)).filter((s): s is { r: number; f: number } => !!s);
    if (ins.length === 0) continue;
    let r = Math.max(...ins.map((s) => s.r));
    let f = ins[0].f;
    switch (opInfo(n.opType ?? '')?.spatial) {
      case 'window': {
        const k = attrInts(n, 'kernel_shape') ?? [1, 1];
        const d = attrInts(n, 'dilations') ?? k.map(() => 1);
        const s = attrInts(n, 'strides') ?? k.map(() => 1);
        const half = Math.max(...k.map((kk, i) => ((kk - 1) * d[i]) / 2));
        if (n.opType === 'Conv') {
          r += half / f;
          f /= s[0];
        } else {
          f *= s[0];
          r += half / f;
        }
        break;
      }
      case 'resize': {
        const sc = consts.get(n.input?.[2] ?? '');
        const up = sc && sc.length === 4 ? sc[2] : 1;
        // linear interpolation reaches one source pixel further
        if ((n.attribute ?? []).some((a) => a.name === 'mode' && new TextDecoder().decode(a.s ?? new Uint8Array()) === 'linear')) r += 1 / f;
        f *= up;
        break;
      }
      case 'toSpace':
        f *= attrInt(n, 'blocksize', 1);
        break;
      case 'toDepth':
        f /= attrInt(n, 'blocksize', 1);
        r += 1 / f;
        break;
      default:
    }
    for (const o of n.output ?? []) state.set(o, { r, f });
  }
  const out = state.get((graph.output ?? [])[0]?.name ?? '');
  if (!out) throw new Error('receptiveRadius: the output does not depend on the first input');
  return Math.ceil(out.r - 1e-9);
}
