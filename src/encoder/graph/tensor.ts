import { DataType, type TensorProto, toNumber } from './proto.js';

export type TensorArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array;

export interface TensorData {
  dims: number[];
  dataType: number;
  data: TensorArray;
}

function viewOf<T>(raw: Uint8Array, Ctor: { new (b: ArrayBuffer, o: number, n: number): T; BYTES_PER_ELEMENT: number }): T {
  // copy: raw may be unaligned inside the protobuf buffer. Not raw.slice(): protobufjs gives Node
  // Buffers, whose slice() is a view into the shared pool, so .buffer at offset 0 is wrong memory.
  const copy = new Uint8Array(raw);
  return new Ctor(copy.buffer, 0, copy.byteLength / Ctor.BYTES_PER_ELEMENT);
}

/** Reads a TensorProto's values, from raw_data or the typed repeated fields. */
export function tensorFromProto(t: TensorProto): TensorData {
  const dims = (t.dims ?? []).map(toNumber);
  const dataType = t.dataType ?? DataType.FLOAT;
  const raw = t.rawData && t.rawData.length ? t.rawData : undefined;
  if (t.dataLocation === 1) throw new Error(`tensor ${t.name}: external data is not supported; save the model with all weights inside`);
  switch (dataType) {
    case DataType.FLOAT:
      return { dims, dataType, data: raw ? viewOf(raw, Float32Array) : Float32Array.from(t.floatData ?? []) };
    case DataType.DOUBLE:
      return { dims, dataType, data: raw ? viewOf(raw, Float64Array) : Float64Array.from(t.doubleData ?? []) };
    case DataType.INT64:
      return {
        dims,
        dataType,
        data: raw ? viewOf(raw, BigInt64Array) : BigInt64Array.from((t.int64Data ?? []).map((v) => BigInt(toNumber(v)))),
      };
    case DataType.INT32:
      return { dims, dataType, data: raw ? viewOf(raw, Int32Array) : Int32Array.from(t.int32Data ?? []) };
    case DataType.UINT8:
    case DataType.BOOL:
      return { dims, dataType, data: raw ? raw.slice() : Uint8Array.from(t.int32Data ?? []) };
    case DataType.INT8:
      return { dims, dataType, data: raw ? viewOf(raw, Int8Array) : Int8Array.from(t.int32Data ?? []) };
    default:
      throw new Error(`tensor ${t.name}: data type ${dataType} is not supported`);
  }
}

function dataTypeOf(a: TensorArray): number {
  if (a instanceof Float32Array) return DataType.FLOAT;
  if (a instanceof Float64Array) return DataType.DOUBLE;
  if (a instanceof Int32Array) return DataType.INT32;
  if (a instanceof BigInt64Array) return DataType.INT64;
  if (a instanceof Int8Array) return DataType.INT8;
  return DataType.UINT8;
}

/** A TensorProto holding `data` as raw little-endian bytes. */
export function tensorToProto(name: string, data: TensorArray, dims: number[], dataType = dataTypeOf(data)): TensorProto {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`tensor ${name}: ${data.length} values do not fill dims [${dims}]`);
  return {
    name,
    dims,
    dataType,
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice(),
  };
}

export function numel(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}
