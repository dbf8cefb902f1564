import type { PairManifest } from '../../shared/manifest.js';
import { GraphBuilder } from '../graph/builder.js';
import { toNumber, type ModelProto, type NodeProto } from '../graph/proto.js';

type Extra = PairManifest['extraInputs'][number];

export interface CanonicalOptions {
  input: string;
  output: string;
  range: '0-1' | '0-255';
  /** Clamp the output to the value range (upscalers whose output is shown). */
  clamp?: boolean;
  /** Extra inputs of this network; 'zeros' ones are fed internally, the rest stay inputs. */
  extras?: Extra[];
  /** Symbolic dims for the canonical I/O. */
  inDims?: [string, string];
  outDims?: [string, string];
}

function opsetOf(model: ModelProto): number {
  const d = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return d ? toNumber(d.version) : 1;
}

/**
 * Wraps a network so that it takes 'x' [1,3,H,W] in 0-1 and gives 'y' in 0-1: Mul 255 before a
 * 0-255 network and Div 255 after it, optional Clip, I/O renamed, and extra inputs filled with
 * zeros built from x (a Constant cannot have the symbolic frame size). The original graph is
 * left untouched; the result shares its initializers.
 */
export function canonicalize(model: ModelProto, opts: CanonicalOptions): ModelProto {
  const graph = model.graph;
  if (!graph) throw new Error('model has no graph');
  const inputs = graph.input ?? [];
  const outputs = graph.output ?? [];
  if (!inputs.some((i) => i.name === opts.input)) throw new Error(`model has no input '${opts.input}' (it has ${inputs.map((i) => `'${i.name}'`).join(', ')})`);
  if (!outputs.some((o) => o.name === opts.output)) throw new Error(`model has no output '${opts.output}' (it has ${outputs.map((o) => `'${o.name}'`).join(', ')})`);
  const zeroExtras = (opts.extras ?? []).filter((e) => e.fill === 'zeros');
  for (const e of opts.extras ?? [])
    if (!inputs.some((i) => i.name === e.name)) throw new Error(`model has no extra input '${e.name}' named in the manifest`);
  const scaled = opts.range === '0-255';
  const clamp = !!opts.clamp && opsetOf(model) >= 11;
  const unchanged = opts.input === 'x' && opts.output === 'y' && !scaled && !clamp && zeroExtras.length === 0;
  if (unchanged) return model;

  const g = new GraphBuilder(graph.name ?? 'canonical', '');
  const names = new Set<string>();
  // node names too: onnxruntime rejects duplicates
  for (const n of graph.node ?? []) for (const v of [...(n.input ?? []), ...(n.output ?? []), n.name ?? '']) names.add(v);
  for (const t of graph.initializer ?? []) names.add(t.name ?? '');
  for (const v of [...inputs, ...outputs]) names.add(v.name ?? '');
  names.delete('x');
  names.delete('y');
  g.reserve(names);
  g.reserve(['x', 'y']);

  const rename = new Map<string, string>();
  const x = g.input('x', [1, 3, ...(opts.inDims ?? ['H', 'W'])]);
  const inner = g.fresh('canon_in');
  rename.set(opts.input, inner);
  if (scaled) g.op('Mul', [x, g.constF([255], [], 'c255')], {}, inner);
  else g.op('Identity', [x], {}, inner);
  // a zero tensor of `channels` channels at x's spatial size, from allowed ops only
  for (const e of zeroExtras) {
    const starts = g.constI64([0]);
    const ends = g.constI64([1]);
    const axes = g.constI64([1]);
    const one = g.op('Slice', [x, starts, ends, axes]);
    const zero = g.op('Mul', [one, g.constF([0], [], 'c0')]);
    const target = g.fresh(`canon_${e.name}`);
    rename.set(e.name, target);
    if (e.channels === 1) g.op('Identity', [zero], {}, target);
    else g.op('Concat', Array.from({ length: e.channels }, () => zero), { axis: { type: 'int', value: 1 } }, target);
  }
  const innerOut = g.fresh('canon_out');
  rename.set(opts.output, innerOut);
  // 'x'/'y' may be used inside the original graph for something else
  if (opts.input !== 'x' && names.has('x')) rename.set('x', g.fresh('orig_x'));
  if (opts.output !== 'y' && names.has('y')) rename.set('y', g.fresh('orig_y'));

  const mapped: NodeProto[] = (graph.node ?? []).map((n) => ({
    ...n,
    input: (n.input ?? []).map((v) => rename.get(v) ?? v),
    output: (n.output ?? []).map((v) => rename.get(v) ?? v),
  }));
  const pre = g.nodes.splice(0);
  g.nodes.push(...pre, ...mapped);

  let y = innerOut;
  if (scaled) y = g.op('Div', [y, g.constF([255], [], 'c255')]);
  if (clamp) y = g.op('Clip', [y, g.constF([0], [], 'lo'), g.constF([1], [], 'hi')]);
  g.op('Identity', [y], {}, 'y');
  g.output('y', [1, 3, ...(opts.outDims ?? ['H2', 'W2'])]);

  const keptExtras = inputs.filter((i) => (opts.extras ?? []).some((e) => e.fill !== 'zeros' && e.name === i.name));
  const initNames = new Set((graph.initializer ?? []).map((t) => t.name));
  // inputs that are also initializers (old exporters) stay as they were
  const initInputs = inputs.filter((i) => initNames.has(i.name));
  const other = outputs.filter((o) => o.name !== opts.output).map((o) => ({ ...o, name: rename.get(o.name ?? '') ?? o.name }));
  return {
    ...model,
    opsetImport: model.opsetImport,
    graph: {
      ...graph,
      node: g.nodes,
      initializer: [...(graph.initializer ?? []), ...g.initializers],
      input: [...g.inputs, ...keptExtras, ...initInputs],
      output: [...g.outputs, ...other],
      valueInfo: (graph.valueInfo ?? []).map((v) => ({ ...v, name: rename.get(v.name ?? '') ?? v.name })),
    },
  };
}
