/**
 * Weights of a KernelPlan in the layout both kernels read: channels padded to a multiple of 4
 * (SIMD vectors on WASM, vec4 on WebGPU), taps outermost.
 */
import type { ConvLayer, KernelPlan } from './plan.js';

export const pad4 = (n: number): number => Math.ceil(n / 4) * 4;

/** One layer ready for a kernel: [k][k][cin4][cout4] weights and cout4 bias/slope. */
export interface PackedLayer {
  k: number;
  reflect: boolean;
  cin4: number;
  cout4: number;
  weights: Float32Array;
  bias: Float32Array;
  slope?: Float32Array;
}

export function packLayer(l: ConvLayer): PackedLayer {
  const { k, cin, cout } = l;
  const cin4 = pad4(cin);
  const cout4 = pad4(cout);
  const weights = new Float32Array(k * k * cin4 * cout4);
  for (let co = 0; co < cout; co++)
    for (let ci = 0; ci < cin; ci++)
      for (let t = 0; t < k * k; t++) weights[(t * cin4 + ci) * cout4 + co] = l.weights[(co * cin + ci) * k * k + t];
  const vec = (v: Float32Array) => {
    const out = new Float32Array(cout4);
    out.set(v);
    return out;
  };
  return { k, reflect: l.reflect, cin4, cout4, weights, bias: vec(l.bias), slope: l.slope && vec(l.slope) };
}

/** The plan's layers packed: the body's in order, then the skip. */
export function packPlan(plan: KernelPlan): { body: PackedLayer[]; skip: PackedLayer; border: number; hidden4: number } {
  const body = plan.body.map(packLayer);
  const skip = packLayer(plan.skip);
  const border = Math.max(...[...plan.body, plan.skip].map((l) => (l.k - 1) / 2));
  const hidden4 = Math.max(4, ...body.slice(0, -1).map((l) => l.cout4));
  return { body, skip, border, hidden4 };
}
