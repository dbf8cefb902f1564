import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attr, convAttrs, GraphBuilder } from '../../src/encoder/graph/builder.js';
import { encodeModel, type ModelProto } from '../../src/encoder/graph/proto.js';
import { createSession, ort } from '../../src/encoder/graph/session.js';
import { builtinPairIds, graphProblems, modelStats, resolvePair, savePair } from '../../src/encoder/pairs/index.js';
import { HcdError } from '../../src/shared/errors.js';
import { upscalerFor } from '../../src/encoder/pairs/types.js';

let tmp: string;
const savedEnv = process.env.HCD_MODELS_DIR;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'hcd-pairs-'));
  process.env.HCD_MODELS_DIR = join(tmp, 'models');
});
afterAll(async () => {
  if (savedEnv === undefined) delete process.env.HCD_MODELS_DIR;
  else process.env.HCD_MODELS_DIR = savedEnv;
  await rm(tmp, { recursive: true, force: true });
});

async function runY(model: ModelProto, feeds: Record<string, { data: Float32Array; dims: number[] }>): Promise<ort.Tensor> {
  const s = await createSession(model, { threads: 1 });
  const f: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) f[k] = new ort.Tensor('float32', v.data, v.dims);
  return (await s.run(f)).y;
}

const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => ((i * 37) % 101) / 100);

async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(HcdError);
  expect((e as Error).message).toMatch(re);
  expect((e as Error).message).not.toContain('\n');
}

describe('resolvePair', () => {
  it('lists the built-ins', () => {
    expect(builtinPairIds()).toEqual(expect.arrayContaining(['bicubic-x2', 'bicubic-x4', 'rdn-x2', 'rdn-x4']));
  });

  it('unknown id is a one-line HcdError naming it', async () => {
    await rejects(resolvePair('no-such-pair'), /unknown pair 'no-such-pair'.*bicubic-x2/);
  });

  it('a folder without manifest.json', async () => {
    const dir = join(tmp, 'empty');
    await mkdir(dir);
    await rejects(resolvePair(dir), /no manifest\.json/);
  });

  it('a manifest that is not JSON, or invalid, names the file and the field', async () => {
    const dir = join(tmp, 'bad');
    await mkdir(dir);
    await writeFile(join(dir, 'manifest.json'), '{ nope');
    await rejects(resolvePair(dir), /manifest\.json: not valid JSON/);
    const good = (await resolvePair('bicubic-x2')).manifest;
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...good, scale: 1 }));
    await rejects(resolvePair(dir), /manifest\.json: invalid pair manifest: scale:/);
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...good, upscaler: { ...good.upscaler, range: '0-100' } }));
    await rejects(resolvePair(dir), /upscaler\.range/);
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(good));
    await rejects(resolvePair(dir), /downscaler\.onnx: cannot read the downscaler/);
  });

  it('savePair -> resolvePair round trip (by path and by id under models/)', async () => {
    const pair = await resolvePair('bicubic-x2');
    const dir = join(tmp, 'models', 'hcd-x2');
    await savePair({ ...pair, id: 'hcd-x2', manifest: { ...pair.manifest, id: 'hcd-x2' } }, dir);
    expect((await readdir(join(tmp, 'models'))).sort()).toEqual(['hcd-x2']);
    const byId = await resolvePair('hcd-x2');
    const byPath = await resolvePair(dir);
    expect(byId.dir).toBe(dir);
    expect(byId.manifest).toEqual({ ...pair.manifest, id: 'hcd-x2' });
    expect(byPath.manifest).toEqual(byId.manifest);
    const x = { data: ramp(3 * 12 * 16), dims: [1, 3, 12, 16] };
    const a = await runY(pair.downscaler, { x });
    const b = await runY(byId.downscaler, { x });
    expect(Array.from(b.data as Float32Array)).toEqual(Array.from(a.data as Float32Array));
    const lr = { data: ramp(3 * 6 * 8), dims: [1, 3, 6, 8] };
    expect(Array.from((await runY(byPath.upscaler, { x: lr })).data as Float32Array)).toEqual(
      Array.from((await runY(pair.upscaler, { x: lr })).data as Float32Array),
    );

    // saving again replaces the folder whole and leaves no temp folders behind
    await savePair({ ...byId, manifest: { ...byId.manifest, description: 'second' } }, dir);
    expect((await readdir(join(tmp, 'models'))).sort()).toEqual(['hcd-x2']);
    expect((await resolvePair('hcd-x2')).manifest.description).toBe('second');
  });

  it('savePair with an invalid manifest writes nothing', async () => {
    const pair = await resolvePair('bicubic-x2');
    const dir = join(tmp, 'never');
    await expect(savePair({ ...pair, manifest: { ...pair.manifest, scale: 0 } }, dir)).rejects.toThrow(/scale/);
    expect((await readdir(tmp)).filter((f) => f.startsWith('never'))).toEqual([]);
  });

  it('a user pair in 0-255 with its own I/O names and an extra input is wrapped to canonical form', async () => {
    // D: 2x2 box average, 'img' -> 'small'; U: 'lr' and a latent 'z' -> nearest x2, 'big'
    const d = new GraphBuilder('d');
    d.input('img', [1, 3, 'H', 'W']);
    const w = new Float32Array(3 * 4).fill(0.25);
    d.op('Conv', ['img', d.constF(w, [3, 1, 2, 2])], convAttrs(2, { stride: 2, pad: 0, group: 3 }), 'small');
    d.output('small', [1, 3, 'h', 'w']);
    const u = new GraphBuilder('u');
    u.input('lr', [1, 3, 'h', 'w']);
    u.input('z', [1, 2, 'h', 'w']);
    const cat = u.op('Concat', ['lr', 'z'], { axis: attr.int(1) });
    // identity on lr, +1 per unit of each z channel: a nonzero z would show
    const k = new Float32Array(3 * 5);
    for (let c = 0; c < 3; c++) {
      k[c * 5 + c] = 1;
      k[c * 5 + 3] = 1;
      k[c * 5 + 4] = 1;
    }
    const mixed = u.op('Conv', [cat, u.constF(k, [3, 5, 1, 1])], convAttrs(1));
    const scales = u.constF([1, 1, 2, 2]);
    u.op('Resize', [mixed, '', scales], { mode: attr.string('nearest') }, 'big');
    u.output('big', [1, 3, 'H', 'W']);
    const info = (file: string, input: string, output: string) => ({ file, input, output, range: '0-255' as const, params: 0, macsPerPixel: 0, clampsOutput: false });
    const base = (await resolvePair('bicubic-x2')).manifest;
    for (const fill of ['zeros', 'gaussian'] as const) {
      const dir = join(tmp, `user-${fill}`);
      await mkdir(dir);
      await writeFile(join(dir, 'down.onnx'), encodeModel(d.toModel()));
      await writeFile(join(dir, 'up.onnx'), encodeModel(u.toModel()));
      const manifest = {
        ...base,
        id: 'irn-like',
        downscaler: info('down.onnx', 'img', 'small'),
        upscaler: info('up.onnx', 'lr', 'big'),
        extraInputs: [{ network: 'upscaler', name: 'z', fill, channels: 2 }],
      };
      await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
      const pair = await resolvePair(dir);
      expect(pair.manifest.downscaler).toMatchObject({ input: 'x', output: 'y', range: '0-1' });
      expect(pair.manifest.provenance.native).toBeDefined();
      const hr = ramp(3 * 4 * 6);
      const lr = (await runY(pair.downscaler, { x: { data: hr, dims: [1, 3, 4, 6] } })).data as Float32Array;
      // box average in 0-1, recovered from the 0-255 network
      expect(lr[0]).toBeCloseTo((hr[0] + hr[1] + hr[6] + hr[7]) / 4, 6);
      const lrIn = { data: lr, dims: [1, 3, 2, 3] };
      if (fill === 'zeros') {
        expect(pair.manifest.extraInputs).toEqual([]);
        const y = (await runY(pair.upscaler, { x: lrIn })).data as Float32Array;
        expect(y[0]).toBeCloseTo(lr[0], 6);
        expect(y[1]).toBeCloseTo(lr[0], 6);
        expect(y[2]).toBeCloseTo(lr[1], 6);
      } else {
        // gaussian latents stay an input, documented in the manifest
        expect(pair.manifest.extraInputs).toHaveLength(1);
        const z = { data: new Float32Array(2 * 6).fill(0.5 * 255), dims: [1, 2, 2, 3] };
        const y = (await runY(pair.upscaler, { x: lrIn, z })).data as Float32Array;
        expect(y[0]).toBeCloseTo(lr[0] + 1, 5);
      }
    }
    const bad = join(tmp, 'user-zeros');
    const m = JSON.parse(await readFile(join(bad, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(bad, 'manifest.json'), JSON.stringify({ ...m, upscaler: info('up.onnx', 'nope', 'big') }));
    await rejects(resolvePair(bad), /up\.onnx: model has no input 'nope'/);

    // a still upscaler (for lossless RGB LR) is wrapped the same way and travels with savePair
    await writeFile(join(bad, 'manifest.json'), JSON.stringify({ ...m, stillUpscaler: info('up.onnx', 'lr', 'big') }));
    const withStill = await resolvePair(bad);
    expect(withStill.manifest.stillUpscaler).toMatchObject({ input: 'x', output: 'y', range: '0-1' });
    const lrIn = { data: ramp(3 * 2 * 3), dims: [1, 3, 2, 3] };
    const viaStill = (await runY(upscalerFor(withStill, 'rgb'), { x: lrIn })).data as Float32Array;
    expect(Array.from(viaStill)).toEqual(Array.from((await runY(withStill.upscaler, { x: lrIn })).data as Float32Array));
    expect(upscalerFor(withStill, '420')).toBe(withStill.upscaler);
    const copy = join(tmp, 'user-still-copy');
    await savePair(withStill, copy);
    expect((await readdir(copy)).sort()).toEqual(['downscaler.onnx', 'manifest.json', 'upscaler-still.onnx', 'upscaler.onnx']);
    const back = await resolvePair(copy);
    expect(back.stillUpscaler).toBeDefined();
    expect(back.manifest.stillUpscaler?.file).toBe('upscaler-still.onnx');
    await writeFile(join(bad, 'manifest.json'), JSON.stringify({ ...m, stillUpscaler: info('gone.onnx', 'lr', 'big') }));
    await rejects(resolvePair(bad), /gone\.onnx: cannot read the upscaler/);
  });
});

describe('modelStats', () => {
  it('counts Conv parameters and MACs from the graph', () => {
    const g = new GraphBuilder('s');
    g.input('x', [1, 3, 'H', 'W']);
    const a = g.op('Conv', ['x', g.constF(new Float32Array(8 * 3 * 9), [8, 3, 3, 3]), g.constF(new Float32Array(8), [8])], convAttrs(3));
    const r = g.op('Relu', [a]);
    const b = g.op('Conv', [r, g.constF(new Float32Array(4 * 8 * 4), [4, 8, 2, 2])], convAttrs(2, { stride: 2, pad: 0 }));
    g.op('DepthToSpace', [b], { blocksize: attr.int(2) }, 'y');
    g.output('y');
    const st = modelStats(g.toModel(), [10, 12]);
    expect(st.params).toBe(8 * 27 + 8 + 4 * 32);
    expect(st.macs).toBe(10 * 12 * 8 * 27 + 5 * 6 * 4 * 32);
  });

  it('gives the bicubic and rdn manifests their budgets', async () => {
    const m = (await resolvePair('bicubic-x2')).manifest;
    // 8x8 depthwise taps per LR pixel and channel; 25 taps per phase channel over 3 inputs, 12 phases per 4 HR pixels
    expect(m.downscaler).toMatchObject({ params: 3 * 64, macsPerPixel: 3 * 64 });
    expect(m.upscaler).toMatchObject({ params: 12 * 3 * 25, macsPerPixel: (12 * 3 * 25) / 4 });
  });
});

describe('graphProblems', () => {
  it('the built-in pairs use only supported ops, every Conv with explicit attributes', async () => {
    for (const id of builtinPairIds()) {
      const p = await resolvePair(id);
      expect({ id, d: graphProblems(p.downscaler), u: graphProblems(p.upscaler) }).toEqual({ id, d: [], u: [] });
    }
  });

  it('flags ops outside the set and a Conv without dilations', () => {
    const g = new GraphBuilder('p');
    g.input('x', [1, 3, 4, 4]);
    const c = g.op('Conv', ['x', g.constF(new Float32Array(27), [1, 3, 3, 3])], { kernel_shape: attr.ints([3, 3]) });
    g.op('Softmax', [c], {}, 'y');
    g.output('y');
    const problems = graphProblems(g.toModel());
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(/Softmax/), expect.stringMatching(/strides\/pads\/dilations/)]));
  });
});

describe('hcd models', () => {
  it('lists the built-ins and own pairs under models/ with their budgets', async () => {
    const { buildProgram } = await import('../../src/cli/main.js');
    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string | Uint8Array) => {
      chunks.push(String(s));
      return true;
    }) as typeof process.stdout.write;
    try {
      await buildProgram().parseAsync(['node', 'hcd', 'models']);
    } finally {
      process.stdout.write = write;
    }
    const lines = chunks.join('').trim().split('\n');
    // hcd-x2 was saved under HCD_MODELS_DIR by the round-trip test above
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual(['bicubic-x2', 'bicubic-x4', 'rdn-x2', 'rdn-x4', 'hcd-x2']);
    expect(lines[0]).toMatch(/x2 +D 192 params 192 MACs\/LR px +U 900 params 225 MACs\/HR px/);
    expect(lines.join('\n')).not.toContain('PROBLEMS');
  });
});
