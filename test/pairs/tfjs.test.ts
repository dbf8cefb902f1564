import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession, ort } from '../../src/encoder/graph/session.js';
import { cropTo, readPng, yPsnr } from '../../src/encoder/pairs/eval.js';
import { resolvePair } from '../../src/encoder/pairs/index.js';
import { esrganSlimDir } from '../../src/encoder/pairs/rdn.js';
import { imageToTensor, tensorToImage } from '../../src/shared/image.js';
import { convertLayersModel } from '../../src/encoder/pairs/tfjs/convert.js';
import { readLayersModel, type LayersModel } from '../../src/encoder/pairs/tfjs/model.js';
import { referenceForward, type Nhwc } from '../../src/encoder/pairs/tfjs/reference.js';
import type { ModelProto } from '../../src/encoder/graph/proto.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'hcd-tfjs-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5;
}

type L = { class_name: string; config: Record<string, unknown>; inbound_nodes: unknown[] };
const layer = (cls: string, name: string, inputs: string[], config: Record<string, unknown> = {}): L => ({
  class_name: cls,
  config: { name, ...config },
  inbound_nodes: inputs.length ? [inputs.map((i) => [i, 0, 0, {}])] : [],
});
const conv = (name: string, input: string, filters: number, k: number, extra: Record<string, unknown> = {}) =>
  layer('Conv2D', name, [input], { filters, kernel_size: [k, k], strides: [1, 1], padding: 'same', dilation_rate: [1, 1], activation: 'linear', use_bias: true, data_format: 'channels_last', ...extra });

/** Writes a small TF.js layers model (as tensorflowjs_converter would) and returns model.json's path. */
async function writeSyntheticModel(
  dir: string,
  layers: L[],
  convs: Record<string, [number, number, number, number]>,
  kind: 'Functional' | 'Sequential' = 'Functional',
): Promise<string> {
  const r = rng(7);
  const entries: { name: string; shape: number[]; dtype: string }[] = [];
  const chunks: Float32Array[] = [];
  // manifest order differs from layer order on purpose (tfjs sorts by name)
  for (const name of Object.keys(convs).sort()) {
    const shape = convs[name];
    entries.push({ name: `${name}/kernel`, shape, dtype: 'float32' });
    chunks.push(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r()));
    entries.push({ name: `${name}/bias`, shape: [shape[3]], dtype: 'float32' });
    chunks.push(Float32Array.from({ length: shape[3] }, () => r() * 0.2));
  }
  const total = chunks.reduce((a, c) => a + c.length, 0);
  const all = new Float32Array(total);
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.length;
  }
  await writeFile(join(dir, 'w.bin'), new Uint8Array(all.buffer));
  const json = {
    format: 'layers-model',
    modelTopology: {
      model_config:
        kind === 'Sequential'
          ? { class_name: 'Sequential', config: { name: 'm', layers: layers.map(({ class_name, config }) => ({ class_name, config })) } }
          : {
              class_name: 'Functional',
              config: { name: 'm', layers, input_layers: [[layers[0].config.name, 0, 0]], output_layers: [[layers[layers.length - 1].config.name, 0, 0]] },
            },
    },
    weightsManifest: [{ paths: ['w.bin'], weights: entries }],
  };
  const p = join(dir, 'model.json');
  await writeFile(p, JSON.stringify(json));
  return p;
}

function nhwcToNchw(t: Nhwc): Float32Array {
  const out = new Float32Array(t.c * t.h * t.w);
  for (let y = 0; y < t.h; y++) for (let x = 0; x < t.w; x++) for (let c = 0; c < t.c; c++) out[(c * t.h + y) * t.w + x] = t.data[(y * t.w + x) * t.c + c];
  return out;
}

async function runNative(model: ModelProto, m: LayersModel, input: Nhwc): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const s = await createSession(model, { threads: 1 });
  const r = await s.run({ [m.inputNames[0]]: new ort.Tensor('float32', nhwcToNchw(input), [1, input.c, input.h, input.w]) });
  const y = r[m.outputNames[0]];
  return { data: y.data as Float32Array, dims: y.dims };
}

function randomInput(h: number, w: number, c: number, scale: number, seed: number): Nhwc {
  const r = rng(seed);
  return { h, w, c, data: Float64Array.from({ length: h * w * c }, () => (r() + 0.5) * scale) };
}

describe('TF.js layers -> ONNX converter', () => {
  it('converts a synthetic model (Conv2D same/valid/even/dilated, ReLU, Concatenate, Add, UpSampling2D) exactly', async () => {
    const dir = await mkdtemp(join(tmp, 'syn-'));
    const layers: L[] = [
      layer('InputLayer', 'inp', [], { batch_input_shape: [null, null, null, 3], dtype: 'float32' }),
      conv('c1', 'inp', 6, 3, { activation: 'relu' }),
      conv('c2', 'c1', 4, 2),
      layer('Concatenate', 'cat', ['c1', 'c2'], { axis: -1 }),
      conv('c3', 'cat', 6, 1, { padding: 'valid' }),
      layer('Add', 'add', ['c3', 'c1']),
      layer('Activation', 'act', ['add'], { activation: 'relu' }),
      layer('UpSampling2D', 'up', ['act'], { size: [2, 2], interpolation: 'nearest', data_format: 'channels_last' }),
      conv('c4', 'up', 5, 3, { dilation_rate: [2, 2] }),
      conv('c5', 'c4', 3, 5),
    ];
    const p = await writeSyntheticModel(dir, layers, { c1: [3, 3, 3, 6], c2: [2, 2, 6, 4], c3: [1, 1, 10, 6], c4: [3, 3, 6, 5], c5: [5, 5, 5, 3] });
    const m = await readLayersModel(p);
    const input = randomInput(7, 9, 3, 1, 3);
    const got = await runNative(convertLayersModel(m), m, input);
    const ref = referenceForward(m, input);
    expect(got.dims).toEqual([1, 3, 14, 18]);
    const want = nhwcToNchw(ref);
    let maxd = 0;
    let maxv = 0;
    for (let i = 0; i < want.length; i++) {
      maxd = Math.max(maxd, Math.abs(got.data[i] - want[i]));
      maxv = Math.max(maxv, Math.abs(want[i]));
    }
    expect(maxv).toBeGreaterThan(0.1);
    expect(maxd).toBeLessThan(1e-5);
  });

  it('converts a Sequential model with ReLU and LeakyReLU layers', async () => {
    const dir = await mkdtemp(join(tmp, 'seq-'));
    const p = await writeSyntheticModel(
      dir,
      [
        conv('s1', '', 5, 3, { batch_input_shape: [null, null, null, 3] }),
        layer('LeakyReLU', 'lk', [], { alpha: 0.2 }),
        conv('s2', '', 3, 3),
        layer('ReLU', 'rl', []),
      ],
      { s1: [3, 3, 3, 5], s2: [3, 3, 5, 3] },
      'Sequential',
    );
    const m = await readLayersModel(p);
    expect(m.layers.map((l) => l.className)).toEqual(['InputLayer', 'Conv2D', 'LeakyReLU', 'Conv2D', 'ReLU']);
    const input = randomInput(6, 5, 3, 1, 9);
    const got = await runNative(convertLayersModel(m), m, input);
    const want = nhwcToNchw(referenceForward(m, input));
    expect(want.some((v) => v === 0) && want.some((v) => v > 0.05)).toBe(true);
    let maxd = 0;
    for (let i = 0; i < want.length; i++) maxd = Math.max(maxd, Math.abs(got.data[i] - want[i]));
    expect(maxd).toBeLessThan(1e-5);
  });

  it('refuses an unsupported layer by name', async () => {
    const dir = await mkdtemp(join(tmp, 'bad-'));
    const layers: L[] = [
      layer('InputLayer', 'inp', [], { batch_input_shape: [null, null, null, 3] }),
      conv('c1', 'inp', 3, 3),
      layer('Lambda', 'my_lambda', ['c1'], { function: 'x' }),
    ];
    const p = await writeSyntheticModel(dir, layers, { c1: [3, 3, 3, 3] });
    const m = await readLayersModel(p);
    expect(() => convertLayersModel(m)).toThrow(/my_lambda.*Lambda/);
  });

  it('the real esrgan-slim x2 RDN matches the JS reference forward on a 16x16 input', async () => {
    const m = await readLayersModel(join(esrganSlimDir(), 'models', 'x2', 'model.json'));
    const input = randomInput(16, 16, 3, 255, 11);
    const got = await runNative(convertLayersModel(m), m, input);
    expect(got.dims).toEqual([1, 3, 32, 32]);
    const want = nhwcToNchw(referenceForward(m, input));
    let maxd = 0;
    for (let i = 0; i < want.length; i++) maxd = Math.max(maxd, Math.abs(got.data[i] - want[i]));
    // values are 0-255: float32 accumulation over ~300k MACs per pixel vs float64
    expect(maxd).toBeLessThan(2e-3);
  });

  it('the converted x2 reproduces the package own sample output (assets/samples/2x)', async () => {
    const base = esrganSlimDir();
    const lr = await readPng(join(base, 'assets', 'fixture.png'));
    const theirs = await readPng(join(base, 'assets', 'samples', '2x', 'result.png'));
    const m = await readLayersModel(join(base, 'models', 'x2', 'model.json'));
    const s = await createSession(convertLayersModel(m), { threads: 2 });
    const r = await s.run({ LR: new ort.Tensor('float32', imageToTensor(lr, 1), [1, 3, lr.height, lr.width]) });
    const ours = tensorToImage(r.SR.data as Float32Array, 2 * lr.width, 2 * lr.height, 1);
    // the package's sample came from TF.js: identical up to 8-bit rounding
    expect(yPsnr(ours, theirs, 0)).toBeGreaterThan(60);
  });
});

describe('rdn pairs', () => {
  let models: string;
  const saved = process.env.HCD_MODELS_DIR;
  beforeAll(async () => {
    models = await mkdtemp(join(tmp, 'models-'));
    process.env.HCD_MODELS_DIR = models;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.HCD_MODELS_DIR;
    else process.env.HCD_MODELS_DIR = saved;
  });

  it('rdn-x2 is canonical (0-1 in, clamped 0-1 out), matches the reference, and is cached', async () => {
    const pair = await resolvePair('rdn-x2');
    expect(pair.manifest.upscaler).toMatchObject({ input: 'x', output: 'y', range: '0-1', clampsOutput: true });
    expect(pair.manifest.upscaler.params).toBeGreaterThan(100_000);
    expect(await readdir(join(models, 'cache', 'rdn-x2'))).toEqual(expect.arrayContaining(['manifest.json', 'upscaler.onnx', 'downscaler.onnx']));

    const input = randomInput(16, 16, 3, 1, 5);
    const s = await createSession(pair.upscaler, { threads: 1 });
    const out = (await s.run({ x: new ort.Tensor('float32', nhwcToNchw(input), [1, 3, 16, 16]) })).y;
    expect(out.dims).toEqual([1, 3, 32, 32]);
    const y = out.data as Float32Array;
    expect(Math.min(...y)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...y)).toBeLessThanOrEqual(1);

    const m = await readLayersModel(join(esrganSlimDir(), 'models', 'x2', 'model.json'));
    const ref = referenceForward(m, { ...input, data: input.data.map((v) => v * 255) });
    for (const [yy, xx, c] of [[0, 0, 0], [5, 17, 1], [31, 31, 2], [16, 3, 0], [20, 28, 1]]) {
      const want = Math.min(1, Math.max(0, ref.data[(yy * 32 + xx) * 3 + c] / 255));
      expect(y[(c * 32 + yy) * 32 + xx]).toBeCloseTo(want, 5);
    }

    // the second call loads the cache and gives the same network
    const again = await resolvePair('rdn-x2');
    expect(again.manifest.provenance.sourceHash).toBe(pair.manifest.provenance.sourceHash);
    // loading the cached canonical graph does not wrap it a second time
    expect(again.upscaler.graph?.node?.length).toBe(pair.upscaler.graph?.node?.length);
    const s2 = await createSession(again.upscaler, { threads: 1 });
    const out2 = (await s2.run({ x: new ort.Tensor('float32', nhwcToNchw(input), [1, 3, 16, 16]) })).y.data as Float32Array;
    expect(Array.from(out2)).toEqual(Array.from(y));
  });

  // esrgan-slim is a very small RDN: on Set5 it gains only a few tenths of a dB over bicubic
  // (bench/pairs.ts), and on this 128x128 fixture it is level with it. Broken weights, layout
  // or padding lose several dB, which is what this guards.
  it('on a real image the rdn pairs reconstruct about as well as bicubic or better', async () => {
    const full = await readPng(join(esrganSlimDir(), 'assets', 'fixture.png'));
    const psnrOf = async (id: string) => {
      const pair = await resolvePair(id);
      const sc = pair.manifest.scale;
      const hr = cropTo(full, sc);
      const d = await createSession(pair.downscaler, { threads: 2 });
      const u = await createSession(pair.upscaler, { threads: 2 });
      const lr = (await d.run({ x: new ort.Tensor('float32', imageToTensor(hr), [1, 3, hr.height, hr.width]) })).y;
      const lr8 = imageToTensor(tensorToImage(lr.data as Float32Array, hr.width / sc, hr.height / sc));
      const sr = (await u.run({ x: new ort.Tensor('float32', lr8, [1, 3, hr.height / sc, hr.width / sc]) })).y;
      return yPsnr(hr, tensorToImage(sr.data as Float32Array, hr.width, hr.height), sc);
    };
    for (const s of [2, 4]) {
      const bic = await psnrOf(`bicubic-x${s}`);
      const rdn = await psnrOf(`rdn-x${s}`);
      expect(bic).toBeGreaterThan(s === 2 ? 28 : 24);
      expect(rdn).toBeGreaterThan(bic - 0.3);
    }
  });
});
