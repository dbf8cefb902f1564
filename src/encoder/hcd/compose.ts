import type { GraphProto, ModelProto, NodeProto, ValueInfoProto } from '../graph/proto.js';
import { GraphBuilder } from '../graph/builder.js';
import { HcdError } from '../../shared/errors.js';

/**
 * Chains ONNX models into one graph (D -> Q -> U) so that one session run gives the loss and
 * the gradient of the whole HR stage. Every name of a part gets a prefix, so the parts' own
 * names (both pairs call their tensors 'x' and 'y' and their constants 'c') never clash.
 */

/** The real inputs of a graph: its declared inputs that are not initializers. */
export function graphInputs(g: GraphProto): ValueInfoProto[] {
  const inits = new Set((g.initializer ?? []).map((t) => t.name));
  return (g.input ?? []).filter((i) => !inits.has(i.name));
}

/** A copy of `g`'s nodes and initializers with every value name mapped by `rename`. */
function renamed(g: GraphProto, rename: (name: string) => string): Pick<GraphProto, 'node' | 'initializer'> {
  const r = (n: string) => (n === '' ? '' : rename(n));
  const node: NodeProto[] = (g.node ?? []).map((n, i) => {
    if ((n.attribute ?? []).some((a) => a.g || (a.graphs && a.graphs.length))) {
      throw new HcdError(`model node ${n.name ?? n.opType} has a subgraph; control flow is not supported by HCD`);
    }
    return { ...n, name: rename(n.name || `n_${n.opType}_${i}`), input: (n.input ?? []).map(r), output: (n.output ?? []).map(r) };
  });
  const initializer = (g.initializer ?? []).map((t) => ({ ...t, name: rename(t.name ?? '') }));
  return { node, initializer };
}

/** Merges opset imports, keeping the highest version of each domain. */
function mergeOpsets(models: ModelProto[]): ModelProto['opsetImport'] {
  const best = new Map<string, number>();
  for (const m of models) {
    for (const o of m.opsetImport ?? []) {
      const d = o.domain ?? '';
      const v = typeof o.version === 'number' ? o.version : Number(o.version ?? 0);
      best.set(d, Math.max(best.get(d) ?? 0, v, d === '' ? 13 : 0));
    }
  }
  if (!best.has('')) best.set('', 17);
  return [...best].map(([domain, version]) => ({ domain, version }));
}

/** The single float input and output of a canonical pair network. */
export function singleIo(m: ModelProto, what: string): { input: string; output: string } {
  const g = m.graph;
  if (!g) throw new HcdError(`${what} has no graph`);
  const ins = graphInputs(g);
  const outs = g.output ?? [];
  if (ins.length !== 1 || outs.length < 1) {
    throw new HcdError(`${what} must have exactly one input and one output (has ${ins.length} inputs, ${outs.length} outputs)`);
  }
  return { input: ins[0].name ?? '', output: outs[0].name ?? '' };
}

export interface ChainPart {
  model: ModelProto;
  /** Prefix for this part's names. */
  prefix: string;
}

/**
 * Builds `input -> parts[0] -> between[0] -> parts[1] -> ... -> output`, where `between[i]`
 * adds nodes to the builder, taking the previous part's output name and returning the name fed
 * to the next part; `before`, when given, does the same in front of parts[0]. The result has one
 * input `inputName` [1,3,H,W] and one output `outputName`.
 */
export function chainModels(
  parts: ChainPart[],
  between: ((b: GraphBuilder, value: string) => string)[],
  inputName = 'x',
  outputName = 'out',
  before?: (b: GraphBuilder, value: string) => string,
): ModelProto {
  // the gradient engine names its own nodes n_<Op>: a prefix keeps ours apart
  const b = new GraphBuilder('hcd_chain', 'hcd/');
  b.input(inputName, [1, 3, 'H', 'W']);
  let current = before ? before(b, inputName) : inputName;
  parts.forEach((part, i) => {
    const io = singleIo(part.model, `model ${part.prefix}`);
    const last = i === parts.length - 1;
    const outName = last ? outputName : `${part.prefix}${io.output}`;
    const feed = current;
    const rename = (n: string) => (n === io.input ? feed : n === io.output ? outName : `${part.prefix}${n}`);
    const r = renamed(part.model.graph ?? {}, rename);
    b.reserve([...(r.node ?? []).flatMap((n) => n.output ?? []), ...(r.initializer ?? []).map((t) => t.name ?? '')]);
    b.nodes.push(...(r.node ?? []));
    b.initializers.push(...(r.initializer ?? []));
    current = last ? outName : between[i] ? between[i](b, outName) : outName;
  });
  b.output(outputName, [1, 3, 'H2', 'W2']);
  const model = b.toModel({ producer: 'hcd-stream/hcd' });
  model.opsetImport = mergeOpsets(parts.map((p) => p.model));
  return model;
}

/**
 * 8-bit quantization Q(y) = round(clip(y, 0, 1) * 255) / 255, as the LR rendition is stored.
 * The gradient engine passes the gradient straight through Round; Clip keeps its true gradient
 * (zero where D's output is outside [0, 1]). The official code passes the gradient through the
 * clamp as well; the two differ only at saturated pixels, where pushing further out of range
 * cannot change the stored LR anyway.
 */
export function quantizeNodes(b: GraphBuilder, value: string): string {
  const lo = b.constF([0], [], 'q_lo');
  const hi = b.constF([1], [], 'q_hi');
  const k = b.constF([255], [], 'q_255');
  const c = b.op('Clip', [value, lo, hi]);
  const s = b.op('Mul', [c, k]);
  const r = b.op('Round', [s]);
  return b.op('Div', [r, k]);
}
