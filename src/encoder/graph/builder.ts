import { AttrType, DataType, type AttributeProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from './proto.js';
import { tensorToProto, type TensorArray } from './tensor.js';

/** A dimension: a fixed size, or a symbolic name for a size known only at run time. */
export type Dim = number | string;

/** Attribute values carry their ONNX type explicitly: 1 and 1.0 are the same number in JS. */
export type AttrValue =
  | { type: 'int'; value: number }
  | { type: 'float'; value: number }
  | { type: 'ints'; value: number[] }
  | { type: 'floats'; value: number[] }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: TensorProto };

export const attr = {
  int: (value: number): AttrValue => ({ type: 'int', value }),
  float: (value: number): AttrValue => ({ type: 'float', value }),
  ints: (value: number[]): AttrValue => ({ type: 'ints', value }),
  floats: (value: number[]): AttrValue => ({ type: 'floats', value }),
  string: (value: string): AttrValue => ({ type: 'string', value }),
  tensor: (value: TensorProto): AttrValue => ({ type: 'tensor', value }),
};

export function toAttributeProto(name: string, a: AttrValue): AttributeProto {
  switch (a.type) {
    case 'int':
      return { name, type: AttrType.INT, i: a.value };
    case 'float':
      return { name, type: AttrType.FLOAT, f: a.value };
    case 'ints':
      return { name, type: AttrType.INTS, ints: a.value };
    case 'floats':
      return { name, type: AttrType.FLOATS, floats: a.value };
    case 'string':
      return { name, type: AttrType.STRING, s: new TextEncoder().encode(a.value) };
    case 'tensor':
      return { name, type: AttrType.TENSOR, t: a.value };
  }
}

export type ElemType = 'float' | 'int64' | 'int32' | 'uint8' | 'bool';
const ELEM: Record<ElemType, number> = {
  float: DataType.FLOAT,
  int64: DataType.INT64,
  int32: DataType.INT32,
  uint8: DataType.UINT8,
  bool: DataType.BOOL,
};

export function valueInfo(name: string, dims?: Dim[], elem: ElemType = 'float'): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM[elem],
        shape: dims ? { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } : undefined,
      },
    },
  };
}

/**
 * Builds ONNX graphs by hand. Names are made unique with a counter, so generated graphs
 * (the gradient engine's, the built-in pairs') can be composed without collisions.
 */
export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly inputs: ValueInfoProto[] = [];
  readonly outputs: ValueInfoProto[] = [];
  private counter = 0;
  private readonly taken = new Set<string>();

  constructor(
    readonly name = 'graph',
    private readonly prefix = '',
  ) {}

  /** A name not used before in this builder, starting with `base`. */
  fresh(base: string): string {
    let n = `${this.prefix}${base}`;
    while (this.taken.has(n)) n = `${this.prefix}${base}_${++this.counter}`;
    this.taken.add(n);
    return n;
  }

  /** Marks names that exist already (e.g. those of a graph being extended). */
  reserve(names: Iterable<string>): void {
    for (const n of names) this.taken.add(n);
  }

  input(name: string, dims?: Dim[], elem: ElemType = 'float'): string {
    this.taken.add(name);
    this.inputs.push(valueInfo(name, dims, elem));
    return name;
  }

  output(name: string, dims?: Dim[], elem: ElemType = 'float'): string {
    this.outputs.push(valueInfo(name, dims, elem));
    return name;
  }

  /** Adds an initializer under exactly `name`. */
  initializer(name: string, data: TensorArray, dims: number[]): string {
    this.taken.add(name);
    this.initializers.push(tensorToProto(name, data, dims));
    return name;
  }

  /** A float constant with a fresh name; a scalar when dims is []. */
  constF(values: number[] | Float32Array, dims: number[] = [values.length], base = 'c'): string {
    return this.initializer(this.fresh(base), values instanceof Float32Array ? values : Float32Array.from(values), dims);
  }

  /** An int64 constant (shapes, axes, pads) with a fresh name. */
  constI64(values: number[], dims: number[] = [values.length], base = 'ci'): string {
    return this.initializer(this.fresh(base), BigInt64Array.from(values.map((v) => BigInt(v))), dims);
  }

  /** Adds a node and returns its output names. */
  node(
    opType: string,
    inputs: string[],
    attrs: Record<string, AttrValue> = {},
    opts: { outputs?: number | string[]; name?: string; domain?: string } = {},
  ): string[] {
    const outs = Array.isArray(opts.outputs)
      ? opts.outputs
      : Array.from({ length: opts.outputs ?? 1 }, () => this.fresh(opType.toLowerCase()));
    for (const o of outs) this.taken.add(o);
    this.nodes.push({
      opType,
      domain: opts.domain ?? '',
      name: opts.name ?? this.fresh(`n_${opType}`),
      input: inputs,
      output: outs,
      attribute: Object.entries(attrs).map(([k, v]) => toAttributeProto(k, v)),
    });
    return outs;
  }

  /** A node with exactly one output. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, output?: string): string {
    return this.node(opType, inputs, attrs, output ? { outputs: [output] } : {})[0];
  }

  toModel(opts: { opset?: number; producer?: string; docString?: string } = {}): ModelProto {
    return {
      irVersion: 8,
      producerName: opts.producer ?? 'hcd-stream',
      docString: opts.docString,
      opsetImport: [{ domain: '', version: opts.opset ?? 17 }],
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
  }
}

/** Explicit Conv attributes: onnxruntime-web's WebGPU backend rejects a Conv without dilations. */
export function convAttrs(k: number, opts: { stride?: number; pad?: number; dilation?: number; group?: number } = {}): Record<string, AttrValue> {
  const s = opts.stride ?? 1;
  const d = opts.dilation ?? 1;
  const p = opts.pad ?? Math.floor(((k - 1) * d) / 2);
  return {
    kernel_shape: attr.ints([k, k]),
    strides: attr.ints([s, s]),
    pads: attr.ints([p, p, p, p]),
    dilations: attr.ints([d, d]),
    group: attr.int(opts.group ?? 1),
  };
}
