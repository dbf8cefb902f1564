/**
 * The player's own kernels in Node: the ONNX reader and the pattern (the project's upscalers and
 * the test models are recognised, other graphs are not), and the WASM kernel against
 * onnxruntime-node on the same input, whole and at odd sizes, in its plain SIMD build and in its
 * relaxed-SIMD (fused multiply-add) build. Node 20's V8 has relaxed SIMD behind a flag, which
 * Chromium ships on.
 */
setFlagsFromString('--experimental-wasm-relaxed-simd');
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder, attr, convAttrs } from '../../src/encoder/graph/builder.js';
import { encodeModel } from '../../src/encoder/graph/proto.js';
import { createSession, ort } from '../../src/encoder/graph/session.js';
import { compileKernel } from '../../src/player/build.js';
import { readOnnxGraph } from '../../src/player/kernels/onnx.js';
import { planKernels, type KernelPlan } from '../../src/player/kernels/plan.js';
import { WasmKernel } from '../../src/player/kernels/wasm.js';
import { ROOT } from '../helpers/browser.js';
import { buildStandInX2, buildX2Upscaler } from './models.js';

const MODELS: Record<string, () => Uint8Array> = {
  'hcd-x2': () => readFileSync(join(ROOT, 'models/hcd-x2/upscaler.onnx')),
  'hcd-x4': () => readFileSync(join(ROOT, 'models/hcd-x4/upscaler.onnx')),
  'test x2 (fixture)': () => buildX2Upscaler().bytes,
  'stand-in x2 (5x5 first conv)': () => buildStandInX2().bytes,
};

/** A graph outside the pattern: Resize + Sigmoid. */
function resizeSigmoid(): Uint8Array {
  const g = new GraphBuilder('resize-x2');
  g.input('image', [1, 3, 'H', 'W']);
  const up = g.op('Resize', ['image', '', g.constF([1, 1, 2, 2], [4], 'scales')], { mode: attr.string('linear') });
  const w = g.constF(Float32Array.from({ length: 27 * 3 }, (_, i) => Math.sin(i) * 0.3), [3, 3, 3, 3], 'w');
  g.op('Sigmoid', [g.op('Conv', [up, w], convAttrs(3))], {}, 'y');
  g.output('y', [1, 3, 'H2', 'W2']);
  return encodeModel(g.toModel());
}

function plan(bytes: Uint8Array): KernelPlan {
  const r = planKernels(readOnnxGraph(bytes));
  if ('problem' in r) throw new Error(r.problem);
  return r.plan;
}

function randomInput(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => 0.5 + 0.5 * Math.sin(i * 0.7311 + seed * 1.3) * Math.cos(i * 0.0131));
}

async function reference(bytes: Uint8Array, x: Float32Array, w: number, h: number): Promise<Float32Array> {
  const s = await createSession(bytes, { threads: 1 });
  try {
    const out = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, [1, 3, h, w]) });
    return out[s.outputNames[0]].data as Float32Array;
  } finally {
    await s.release();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('the kernels\' ONNX pattern', () => {
  it('recognises the project\'s upscalers and the test models', () => {
    const x2 = plan(MODELS['hcd-x2']());
    expect(x2).toMatchObject({ scale: 2, order: 'CRD', clip: { lo: 0, hi: 1 }, radius: 4, input: 'x', output: 'y' });
    expect(x2.body.map((l) => [l.cin, l.cout, l.k, !!l.slope])).toEqual([[3, 16, 3, true], [16, 16, 3, true], [16, 16, 3, true], [16, 12, 3, false]]);
    expect(x2.skip).toMatchObject({ cin: 3, cout: 12, k: 5, reflect: true });
    expect(plan(MODELS['hcd-x4']())).toMatchObject({ scale: 4, order: 'CRD' });
    expect(plan(MODELS['test x2 (fixture)']())).toMatchObject({ scale: 2, order: 'DCR', clip: undefined, skip: { k: 1, reflect: false } });
    expect(plan(MODELS['stand-in x2 (5x5 first conv)']()).body[0].k).toBe(5);
  });

  it('leaves other graphs to onnxruntime-web, saying why', () => {
    const r = planKernels(readOnnxGraph(resizeSigmoid()));
    expect(r).toEqual({ problem: expect.stringMatching(/not the player's own upscaler pattern: op Sigmoid/) });
    expect(() => readOnnxGraph(new Uint8Array([0x3a, 0x05, 1]))).toThrow(/truncated/);
  });
});

describe.each([
  { build: 'plain SIMD', relaxed: false },
  { build: 'relaxed SIMD', relaxed: true },
])('the WASM kernel ($build) against onnxruntime-node', ({ relaxed }) => {
  let wasm: Uint8Array<ArrayBuffer>;
  beforeAll(async () => {
    wasm = await compileKernel({ relaxed });
    expect(WebAssembly.validate(wasm)).toBe(true);
    await compileKernel({ shared: true, relaxed }); // the threads' build compiles too
  });

  for (const [name, bytes] of Object.entries(MODELS)) {
    it(`${name}: the same output within float rounding, at sizes that are no multiple of 4`, async () => {
      const b = bytes();
      const k = await WasmKernel.create(plan(b), 1, { own: wasm });
      for (const [w, h] of [[37, 23], [16, 9], [5, 6]]) {
        const x = randomInput(3 * w * h, w);
        const want = await reference(b, x, w, h);
        const got = (await k.run(x, w, h)).slice();
        const d = maxAbsDiff(got, want);
        expect(d, `${w}x${h}`).toBeLessThan(2e-5);
      }
    });
  }
});
