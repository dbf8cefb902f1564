import { expect } from 'vitest';
import { buildGradientModel, type GradientOptions } from '../../src/encoder/graph/autodiff/index.js';
import type { ModelProto } from '../../src/encoder/graph/proto.js';
import { createSession, ort } from '../../src/encoder/graph/session.js';
import { tensorFromProto } from '../../src/encoder/graph/tensor.js';

/** Finite-difference checking of gradient models: directional derivatives along random directions. */

export interface Feed {
  data: Float32Array;
  dims: number[];
}

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randn(r: () => number, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  return out;
}

export function feed(r: () => number, dims: number[], scale = 1): Feed {
  return { data: randn(r, dims.reduce((a, b) => a * b, 1), scale), dims };
}

function toOrt(feeds: Record<string, Feed>): Record<string, ort.Tensor> {
  return Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, new ort.Tensor('float32', f.data, f.dims)]));
}

export async function runModel(model: ModelProto, feeds: Record<string, Feed>): Promise<Record<string, Feed>> {
  const s = await createSession(model, { threads: 1 });
  try {
    const res = await s.run(toOrt(feeds));
    return Object.fromEntries(Object.entries(res).map(([k, t]) => [k, { data: t.data as Float32Array, dims: [...t.dims] }]));
  } finally {
    await s.release();
  }
}

export interface FdOptions {
  eps?: number;
  dirs?: number;
  seed?: number;
  /** A gradient model built beforehand (to run one model at several sizes). */
  gradModel?: ModelProto;
}

export interface CheckResult {
  /** Per wrt name: ||a − f|| / max(||a||, ||f||) over the random directions. */
  relErr: Record<string, number>;
  grads: Record<string, Feed>;
  loss: number;
}

/**
 * Builds the gradient model, runs it once, and compares <grad_w, v> with the central difference
 * (L(w+εv) − L(w−εv)) / 2ε for `dirs` random directions v per wrt tensor (the others held fixed),
 * so an error in any one gradient cannot hide behind another's.
 */
export async function checkGradients(
  model: ModelProto,
  opts: GradientOptions,
  feeds: Record<string, Feed>,
  { eps = 3e-3, dirs = 3, seed = 7, gradModel }: FdOptions = {},
): Promise<CheckResult> {
  const r = rng(seed);
  const all: Record<string, Feed> = { ...feeds };
  for (const w of opts.wrt) {
    if (all[w]) continue;
    const init = model.graph?.initializer?.find((t) => t.name === w);
    if (!init) throw new Error(`no value for ${w}`);
    const t = tensorFromProto(init);
    all[w] = { data: Float32Array.from(t.data as Float32Array), dims: t.dims };
  }
  if (opts.loss.kind !== 'scalar') {
    const out = (await runModel(model, feeds))[opts.loss.output];
    all[opts.loss.target ?? 'target'] = feed(r, out.dims);
  }
  const gm = gradModel ?? buildGradientModel(model, opts);
  const s = await createSession(gm, { threads: 1 });
  try {
    const loss = async (f: Record<string, Feed>) => ((await s.run(toOrt(f), ['loss'])).loss.data as Float32Array)[0];
    const base = await s.run(toOrt(all));
    const grads: Record<string, Feed> = {};
    const relErr: Record<string, number> = {};
    for (const w of opts.wrt) {
      const g = base[`grad_${w}`];
      expect([...g.dims], `grad_${w} dims`).toEqual(all[w].dims);
      const gd = g.data as Float32Array;
      grads[w] = { data: gd, dims: [...g.dims] };
      let num = 0;
      let na = 0;
      let nf = 0;
      for (let d = 0; d < dirs; d++) {
        const v = randn(r, gd.length);
        let analytic = 0;
        for (let i = 0; i < v.length; i++) analytic += gd[i] * v[i];
        const shifted = (sign: number) => {
          const data = Float32Array.from(all[w].data, (x, i) => x + sign * eps * v[i]);
          return loss({ ...all, [w]: { data, dims: all[w].dims } });
        };
        const fd = ((await shifted(1)) - (await shifted(-1))) / (2 * eps);
        num += (analytic - fd) ** 2;
        na += analytic ** 2;
        nf += fd ** 2;
      }
      relErr[w] = Math.sqrt(num) / Math.max(Math.sqrt(na), Math.sqrt(nf), 1e-12);
      // A vanishing gradient would make the comparison meaningless.
      expect(Math.sqrt(na), `grad_${w} is not zero`).toBeGreaterThan(1e-6);
    }
    return { relErr, grads, loss: (base.loss.data as Float32Array)[0] };
  } finally {
    await s.release();
  }
}

/** Asserts every gradient matches its finite differences within `tol`. */
export async function expectGradientsMatch(
  model: ModelProto,
  opts: GradientOptions,
  feeds: Record<string, Feed>,
  tol = 2e-2,
  fd: FdOptions = {},
): Promise<CheckResult> {
  const res = await checkGradients(model, opts, feeds, fd);
  for (const [w, err] of Object.entries(res.relErr)) expect(err, `relative error of grad_${w}`).toBeLessThan(tol);
  return res;
}
