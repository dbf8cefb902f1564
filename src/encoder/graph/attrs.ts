import { AttrType, type NodeProto, type TensorProto, toNumber } from './proto.js';

/** Reading attributes of decoded models, with the default ONNX gives when one is absent. */
export function attrOf(node: NodeProto, name: string) {
  return (node.attribute ?? []).find((a) => a.name === name);
}

export function attrInt(node: NodeProto, name: string, dflt: number): number {
  const a = attrOf(node, name);
  return a ? toNumber(a.i) : dflt;
}

export function attrFloat(node: NodeProto, name: string, dflt: number): number {
  const a = attrOf(node, name);
  return a ? (a.f ?? 0) : dflt;
}

export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = attrOf(node, name);
  return a ? (a.ints ?? []).map(toNumber) : undefined;
}

export function attrString(node: NodeProto, name: string, dflt: string): string {
  const a = attrOf(node, name);
  return a && a.s ? new TextDecoder().decode(a.s) : dflt;
}

export function attrTensor(node: NodeProto, name: string): TensorProto | undefined {
  const a = attrOf(node, name);
  return a && a.type === AttrType.TENSOR ? (a.t ?? undefined) : undefined;
}
