/**
 * The few ONNX fields the player's own kernels need, read straight from the protobuf wire format.
 * ONNX's own JavaScript readers (onnx-proto, onnxruntime-web's) are generated with protobufjs,
 * whose runtime alone outweighs the kernels; this reader is a varint loop over five message types
 * and skips every field it does not know.
 */

export interface OnnxAttribute {
  name: string;
  f?: number;
  i?: number;
  s?: string;
  ints: number[];
  floats: number[];
}

export interface OnnxNode {
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, OnnxAttribute>;
}

export interface OnnxTensor {
  name: string;
  dims: number[];
  /** TensorProto.DataType: 1 float, 6 int32, 7 int64. */
  dataType: number;
  /** The values as numbers (int64 beyond 2^53 lose precision; the graphs here never have them). */
  values: number[] | Float32Array;
}

export interface OnnxGraph {
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  inputs: string[];
  outputs: string[];
}

const FLOAT = 1;
const INT32 = 6;
const INT64 = 7;

/** A cursor over one message's bytes. */
class Reader {
  pos: number;
  constructor(readonly buf: Uint8Array, start = 0, readonly end = buf.length) {
    this.pos = start;
  }

  get more(): boolean {
    return this.pos < this.end;
  }

  varint(): number {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= this.end) throw new Error('ONNX: truncated varint');
      const b = this.buf[this.pos++];
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  }

  /** A varint as a signed 64-bit value (negative int64s are ten-byte two's complement). */
  int64(): number {
    const v = this.varint();
    return v >= 2 ** 63 ? v - 2 ** 64 : v;
  }

  bytes(): Uint8Array {
    const n = this.varint();
    if (this.pos + n > this.end) throw new Error('ONNX: truncated field');
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  string(): string {
    return new TextDecoder().decode(this.bytes());
  }

  float(): number {
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) {
      const n = this.varint(); // (pos += varint() would add to the pos from before the length)
      this.pos += n;
    }
    else if (wire === 5) this.pos += 4;
    else throw new Error(`ONNX: unsupported wire type ${wire}`);
  }

  /** Calls `on(field, wire)` for each field; `on` reads the value or returns false to skip it. */
  fields(on: (field: number, wire: number) => boolean): void {
    while (this.more) {
      const key = this.varint();
      if (!on(Math.floor(key / 8), key & 7)) this.skip(key & 7);
    }
  }
}

/** Repeated scalars: packed (wire type 2) or one by one. */
function repeated(r: Reader, wire: number, read: (r: Reader) => number, out: number[]): void {
  if (wire !== 2) {
    out.push(read(r));
    return;
  }
  const sub = r.bytes();
  const p = new Reader(sub);
  while (p.more) out.push(read(p));
}

function readAttribute(r: Reader): OnnxAttribute {
  const a: OnnxAttribute = { name: '', ints: [], floats: [] };
  r.fields((f, w) => {
    if (f === 1) a.name = r.string();
    else if (f === 2 && w === 5) a.f = r.float();
    else if (f === 3 && w === 0) a.i = r.int64();
    else if (f === 4 && w === 2) a.s = r.string();
    else if (f === 7) repeated(r, w, (x) => x.float(), a.floats);
    else if (f === 8) repeated(r, w, (x) => x.int64(), a.ints);
    else return false;
    return true;
  });
  return a;
}

function readNode(r: Reader): OnnxNode {
  const n: OnnxNode = { opType: '', domain: '', inputs: [], outputs: [], attrs: new Map() };
  r.fields((f) => {
    if (f === 1) n.inputs.push(r.string());
    else if (f === 2) n.outputs.push(r.string());
    else if (f === 4) n.opType = r.string();
    else if (f === 7) n.domain = r.string();
    else if (f === 5) {
      const a = readAttribute(new Reader(r.buf, ...span(r)));
      n.attrs.set(a.name, a);
    } else return false;
    return true;
  });
  return n;
}

/** The [start, end) of the length-delimited field at the cursor, which moves past it. */
function span(r: Reader): [number, number] {
  const n = r.varint();
  const start = r.pos;
  r.pos += n;
  if (r.pos > r.end) throw new Error('ONNX: truncated message');
  return [start, r.pos];
}

function readTensor(r: Reader): OnnxTensor {
  const t = { name: '', dims: [] as number[], dataType: 0 };
  const listed: number[] = [];
  let raw: Uint8Array | undefined;
  let external = false;
  r.fields((f, w) => {
    if (f === 1) repeated(r, w, (x) => x.int64(), t.dims);
    else if (f === 2) t.dataType = r.varint();
    else if (f === 8) t.name = r.string();
    else if (f === 9) raw = r.bytes();
    else if (f === 4) repeated(r, w, (x) => x.float(), listed);
    else if (f === 5 || f === 7) repeated(r, w, (x) => x.int64(), listed);
    else if (f === 14) external = r.varint() === 1;
    else return false;
    return true;
  });
  if (external) throw new Error(`ONNX: initializer ${t.name} has external data`);
  return { ...t, values: raw ? rawValues(raw, t.dataType, t.name) : t.dataType === FLOAT ? Float32Array.from(listed) : listed };
}

function rawValues(raw: Uint8Array, dataType: number, name: string): number[] | Float32Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (dataType === FLOAT) return Float32Array.from({ length: raw.byteLength / 4 }, (_, i) => view.getFloat32(4 * i, true));
  if (dataType === INT32) return Array.from({ length: raw.byteLength / 4 }, (_, i) => view.getInt32(4 * i, true));
  if (dataType === INT64) return Array.from({ length: raw.byteLength / 8 }, (_, i) => Number(view.getBigInt64(8 * i, true)));
  throw new Error(`ONNX: initializer ${name} has data type ${dataType}`);
}

/** ValueInfoProto: only the name. */
function readName(r: Reader): string {
  let name = '';
  r.fields((f) => {
    if (f !== 1) return false;
    name = r.string();
    return true;
  });
  return name;
}

function readGraph(r: Reader): OnnxGraph {
  const g: OnnxGraph = { nodes: [], initializers: new Map(), inputs: [], outputs: [] };
  r.fields((f, w) => {
    if (w !== 2 || ![1, 5, 11, 12].includes(f)) return false;
    const sub = new Reader(r.buf, ...span(r));
    if (f === 1) g.nodes.push(readNode(sub));
    else if (f === 5) {
      const t = readTensor(sub);
      g.initializers.set(t.name, t);
    } else (f === 11 ? g.inputs : g.outputs).push(readName(sub));
    return true;
  });
  return g;
}

/** The main graph of an ONNX ModelProto. Throws on bytes that are not one. */
export function readOnnxGraph(bytes: Uint8Array): OnnxGraph {
  const r = new Reader(bytes);
  let graph: OnnxGraph | undefined;
  r.fields((f, w) => {
    if (f !== 7 || w !== 2) return false;
    graph = readGraph(new Reader(r.buf, ...span(r)));
    return true;
  });
  if (!graph) throw new Error('ONNX: the model has no graph');
  return graph;
}
