import type { Rng } from '../shared/rng.js';

/** One trainable tensor: flat float data plus its ONNX dims. */
export interface Param {
  dims: number[];
  data: Float32Array;
}

/** Trainable tensors by name, in a fixed (insertion) order that checkpoints and Adam rely on. */
export type Params = Map<string, Param>;

export function paramCount(p: Params, prefix = ''): number {
  let n = 0;
  for (const [k, v] of p) if (k.startsWith(prefix)) n += v.data.length;
  return n;
}

/** He-normal conv weights scaled by `gain`, zero bias. */
export function initConv(p: Params, rng: Rng, name: string, cout: number, cinPerGroup: number, k: number, gain = 1): void {
  const fanIn = cinPerGroup * k * k;
  const std = gain * Math.sqrt(2 / fanIn);
  const w = new Float32Array(cout * cinPerGroup * k * k);
  for (let i = 0; i < w.length; i++) w[i] = std * rng.normal();
  p.set(`${name}.w`, { dims: [cout, cinPerGroup, k, k], data: w });
  p.set(`${name}.b`, { dims: [cout], data: new Float32Array(cout) });
}

export function initPrelu(p: Params, name: string, c: number, slope = 0.1): void {
  p.set(`${name}.a`, { dims: [c, 1, 1], data: new Float32Array(c).fill(slope) });
}
