import { attrInt } from '../attrs.js';
import { attr, GraphBuilder, valueInfo } from '../builder.js';
import { type ModelProto, type NodeProto, type TensorProto, toNumber, type ValueInfoProto } from '../proto.js';
import { Emitter, type VjpContext } from './emit.js';
import { UnsupportedOpError } from './errors.js';
import { GraphInfo, isFloat } from './graph.js';
import { opInfo } from '../ops.js';
import { rules } from './rules.js';

export { UnsupportedOpError } from './errors.js';

export interface GradientOptions {
  /** Graph input names and/or initializer names to differentiate with respect to. */
  wrt: string[];
  /**
   * mse/l1: mean over all elements of (output − target)² or |output − target|; `target` names a
   * NEW graph input (default 'target') of the output's shape. scalar: `output` is already the loss.
   */
  loss: { kind: 'mse' | 'l1'; output: string; target?: string } | { kind: 'scalar'; output: string };
  /** Also expose the forward outputs under their original names. */
  keepOutputs?: boolean;
}

/**
 * Reverse-mode autodiff over an ONNX graph. Returns a model with outputs `loss` (scalar float) and
 * `grad_<name>` for each wrt name (same shape as that tensor), plus the forward outputs when
 * keepOutputs is set.
 *
 * Initializers named in wrt become graph inputs: callers feed the current weights on every run
 * (their values are dropped from the model). Other initializers stay constant. Shape-dependent
 * steps use run-time Shape ops, so one gradient model serves every input size.
 */
export function buildGradientModel(model: ModelProto, opts: GradientOptions): ModelProto {
  const graph = model.graph;
  if (!graph) throw new Error('autodiff: model has no graph');
  const opset = toNumber((model.opsetImport ?? []).find((o) => !o.domain)?.version);
  if (opset < 13) throw new Error(`autodiff: opset ${opset} is too old; export with opset 13 or newer`);
  const wrt = new Set(opts.wrt);
  const nodes = graph.node ?? [];
  const inits = graph.initializer ?? [];
  const inputs = graph.input ?? [];
  const known = new Set([...inits.map((t) => t.name ?? ''), ...inputs.map((v) => v.name ?? '')]);
  for (const w of wrt) if (!known.has(w)) throw new Error(`autodiff: wrt '${w}' is neither a graph input nor an initializer`);
  const producedBy = new Set(nodes.flatMap((n) => n.output ?? []));
  if (!producedBy.has(opts.loss.output) && !known.has(opts.loss.output)) throw new Error(`autodiff: loss output '${opts.loss.output}' is not a tensor of the graph`);

  for (const name of ['loss', ...opts.wrt.map((w) => `grad_${w}`)]) {
    const isScalarLoss = name === 'loss' && opts.loss.kind === 'scalar' && opts.loss.output === 'loss';
    if ((producedBy.has(name) || known.has(name)) && !isScalarLoss) throw new Error(`autodiff: the graph already has a tensor named '${name}'`);
  }

  const info = new GraphInfo(graph, wrt);
  const b = new GraphBuilder(graph.name ?? 'grad');
  b.reserve(known);
  b.reserve(producedBy);
  b.reserve(nodes.map((n) => n.name ?? ''));
  b.reserve(['loss', ...opts.wrt.map((w) => `grad_${w}`)]);
  const e = new Emitter(b, info);

  // --- forward activity: tensors that depend on a wrt tensor through differentiable inputs ---
  const active = new Set(wrt);
  for (const n of nodes) {
    const op = n.opType ?? '';
    if (opInfo(op)?.grad === 'none' || (op === 'Cast' && !isFloat(attrInt(n, 'to', 0)))) continue;
    const rule = rules[op];
    const ins = n.input ?? [];
    const hot = ins.some((t, i) => t && active.has(t) && (!rule || rule.diff === 'all' || rule.diff.includes(i)));
    if (hot) for (const o of n.output ?? []) active.add(o);
  }

  // --- loss and its seed gradient ---
  const grads = new Map<string, string[]>();
  const addGrad = (t: string, g: string) => {
    grads.set(t, [...(grads.get(t) ?? []), g]);
    e.annotate(g, t);
  };
  const out = opts.loss.output;
  const extraInputs: ValueInfoProto[] = [];
  let lossName: string;
  if (opts.loss.kind === 'scalar') {
    lossName = out === 'loss' ? out : b.op('Reshape', [out, e.i64([])], {}, 'loss');
    addGrad(out, e.op('ConstantOfShape', [e.shape(out)], { value: attr.tensor(oneF()) }));
  } else {
    const target = opts.loss.target ?? 'target';
    if (known.has(target) || producedBy.has(target)) throw new Error(`autodiff: target name '${target}' is already used in the graph`);
    b.reserve([target]);
    const outInfo = (graph.output ?? []).find((o) => o.name === out);
    extraInputs.push(outInfo?.type ? { name: target, type: outInfo.type } : valueInfo(target));
    const diff = e.op('Sub', [out, target]);
    const n = e.castFloat(e.op('Size', [out]));
    if (opts.loss.kind === 'mse') {
      lossName = b.op('ReduceMean', [e.mul(diff, diff)], { keepdims: attr.int(0) }, 'loss');
      addGrad(out, e.mul(diff, e.op('Div', [e.f(2), n])));
    } else {
      lossName = b.op('ReduceMean', [e.op('Abs', [diff])], { keepdims: attr.int(0) }, 'loss');
      addGrad(out, e.mul(e.op('Sign', [diff]), e.op('Div', [e.f(1), n])));
    }
  }

  // --- backward sweep in reverse topological order ---
  const gradOf = (t: string): string | undefined => {
    const gs = grads.get(t);
    if (!gs?.length) return undefined;
    if (gs.length === 1) return gs[0];
    const sum = e.annotate(e.op('Sum', gs), t);
    grads.set(t, [sum]);
    return sum;
  };
  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k];
    const outs = n.output ?? [];
    if (!outs.some((o) => grads.has(o))) continue;
    const label = n.name || `${n.opType}#${k}`;
    const rule = rules[n.opType ?? ''];
    if (!rule) throw new UnsupportedOpError(n.opType ?? '?', label);
    const ins = n.input ?? [];
    const ctx: VjpContext = {
      e,
      node: n,
      label,
      inputs: ins,
      outputs: outs,
      gradOut: (i = 0) => gradOf(outs[i]) ?? e.zerosLike(outs[i]),
      needs: (i) => !!ins[i] && active.has(ins[i]) && (rule.diff === 'all' || rule.diff.includes(i)),
      rankOf: (t) => info.rank(t),
    };
    const res = rule.vjp(ctx);
    res.forEach((g, i) => {
      if (g && ctx.needs(i)) addGrad(ins[i], g);
    });
  }

  // --- outputs ---
  const outputs: ValueInfoProto[] = [{ name: lossName, type: valueInfo(lossName, []).type }];
  const typeOf = (name: string): ValueInfoProto['type'] => {
    const vi = inputs.find((v) => v.name === name);
    if (vi?.type) return vi.type;
    const t = inits.find((i) => i.name === name);
    return valueInfo(name, (t?.dims ?? []).map(toNumber)).type;
  };
  for (const w of opts.wrt) {
    const g = gradOf(w) ?? e.zerosLike(w);
    outputs.push({ name: b.op('Identity', [g], {}, `grad_${w}`), type: typeOf(w) });
  }
  if (opts.keepOutputs) outputs.push(...(graph.output ?? []));

  // --- assemble and prune what no output needs ---
  const allNodes: NodeProto[] = [...nodes, ...b.nodes];
  const needed = new Set(outputs.map((o) => o.name ?? ''));
  const kept: NodeProto[] = [];
  for (let k = allNodes.length - 1; k >= 0; k--) {
    const n = allNodes[k];
    if (!(n.output ?? []).some((o) => needed.has(o))) continue;
    kept.push(n);
    for (const i of n.input ?? []) if (i) needed.add(i);
  }
  kept.reverse();
  const initializers: TensorProto[] = [...inits.filter((t) => !wrt.has(t.name ?? '')), ...b.initializers].filter((t) => needed.has(t.name ?? ''));
  const inputNames = new Set(inputs.map((v) => v.name ?? ''));
  // torch.onnx.export lists initializers as inputs too; one whose initializer was pruned must not
  // turn into an input that callers would have to feed.
  const initNames = new Set(inits.map((t) => t.name ?? ''));
  const graphInputs: ValueInfoProto[] = [
    ...inputs.filter((v) => wrt.has(v.name ?? '') || !initNames.has(v.name ?? '') || needed.has(v.name ?? '')),
    ...opts.wrt.filter((w) => !inputNames.has(w)).map((w) => ({ name: w, type: typeOf(w) })),
    ...extraInputs,
  ];
  // Symbolic shapes of kept tensors (a gradient has its forward tensor's shape), so that ORT can
  // prove equal shapes across forward and backward tensors (see the Relu rule).
  const valueInfos: ValueInfoProto[] = [];
  const outNames = new Set(outputs.map((o) => o.name ?? ''));
  for (const [t, like] of e.sameShape) {
    const dims = info.sym.get(like);
    if (!needed.has(t) || outNames.has(t) || inputNames.has(t) || initNames.has(t) || !dims || dims.some((d) => d === null)) continue;
    valueInfos.push(valueInfo(t, dims as (number | string)[]));
  }
  return {
    irVersion: model.irVersion,
    producerName: 'hcd-stream autodiff',
    opsetImport: model.opsetImport,
    graph: { name: graph.name ?? 'grad', node: kept, initializer: initializers, input: graphInputs, output: outputs, valueInfo: valueInfos },
  };
}

function oneF(): TensorProto {
  return { name: 'value', dims: [1], dataType: 1, rawData: new Uint8Array(new Float32Array([1]).buffer) };
}
