/**
 * What a browser upscaler's time is made of: onnxruntime-web WASM `session.run` in headless
 * Chromium (no video, one thread by default) for shapes of the hcd-x2 upscaler that differ in one
 * thing each: the activation (PRelu, LeakyRelu, Relu, none), the number of hidden 3x3 convs, and
 * the width. Weights are random: the time does not depend on them. This is the measurement
 * behind U's shape in models/hcd-x2 (docs/models.md, docs/player.md).
 *
 *   node --import tsx bench/upscaler-variants.ts [--size 320x180] [--threads 1] [--rounds 20]
 *
 * Prints the median ms per frame of each variant and its ratio to the shipped shape
 * (`prelu-h2-c16`), interleaved round by round so that load changes hit every variant alike.
 * Skips cleanly when Chromium is missing.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { attr, convAttrs, GraphBuilder } from '../src/encoder/graph/builder.js';
import { encodeModel, type ModelProto } from '../src/encoder/graph/proto.js';
import { modelStats } from '../src/encoder/pairs/stats.js';
import { bicubicUpWeights, reflectPad } from '../src/train/nets.js';
import { chromiumMissing, launchChromium, ROOT, serveStatic } from '../test/helpers/browser.js';

const { values } = parseArgs({
  options: { size: { type: 'string', default: '320x180' }, threads: { type: 'string', default: '1' }, rounds: { type: 'string', default: '20' } },
});
const [w, h] = (values.size ?? '320x180').split('x').map(Number);
const threads = Number(values.threads);
const rounds = Number(values.rounds);

type Act = 'prelu' | 'leaky' | 'relu' | 'none';
interface Variant {
  act: Act;
  hidden: number;
  ch: number;
}
const name = (v: Variant) => `${v.act}-h${v.hidden}-c${v.ch}`;
const VARIANTS: Variant[] = [
  { act: 'prelu', hidden: 2, ch: 16 }, // shipped
  { act: 'prelu', hidden: 3, ch: 16 }, // hcd-x2 v1
  { act: 'leaky', hidden: 3, ch: 16 },
  { act: 'relu', hidden: 3, ch: 16 },
  { act: 'none', hidden: 3, ch: 16 },
  { act: 'leaky', hidden: 2, ch: 16 },
  { act: 'prelu', hidden: 4, ch: 12 },
];

let seed = 1;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 0.1;

/** U as nets.ts builds it (convs at LR resolution, bicubic residual, DepthToSpace, Clip), reshaped. */
function upscaler(v: Variant): ModelProto {
  const g = new GraphBuilder('u');
  const x = g.input('x', [1, 3, 'h', 'w']);
  const t = (dims: number[]) => g.constF(Float32Array.from({ length: dims.reduce((a, b) => a * b) }, rand), dims, 'w');
  const conv = (inp: string, cin: number, cout: number, act: boolean) => {
    const y = g.op('Conv', [inp, t([cout, cin, 3, 3]), t([cout])], convAttrs(3));
    if (!act || v.act === 'none') return y;
    if (v.act === 'prelu') return g.op('PRelu', [y, t([cout, 1, 1])]);
    if (v.act === 'leaky') return g.op('LeakyRelu', [y], { alpha: attr.float(0.1) });
    return g.op('Relu', [y]);
  };
  let f = conv(x, 3, v.ch, true);
  for (let i = 0; i < v.hidden; i++) f = conv(f, v.ch, v.ch, true);
  f = conv(f, v.ch, 12, false);
  const res = g.op('Conv', [reflectPad(g, x, 2, 2), g.constF(bicubicUpWeights(2), [12, 1, 5, 5], 'res')], convAttrs(5, { pad: 0, group: 3 }));
  const d2s = g.op('DepthToSpace', [g.op('Add', [f, res])], { blocksize: attr.int(2), mode: attr.string('CRD') });
  g.op('Clip', [d2s, g.constF([0], [], 'lo'), g.constF([1], [], 'hi')], {}, 'y');
  g.output('y', [1, 3, 'H', 'W']);
  return g.toModel();
}

const PAGE = `<!doctype html><script type="module">
import * as ort from '/ort/ort.min.mjs';
window.run = async (names, threads, w, h, rounds) => {
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.wasmPaths = '/ort/';
  const s = {};
  for (const n of names) s[n] = await ort.InferenceSession.create('/m/' + n + '.onnx', { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const x = new ort.Tensor('float32', new Float32Array(3 * w * h).map(() => Math.random()), [1, 3, h, w]);
  const ms = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) for (let i = 0; i < 3; i++) await s[n].run({ x });
  for (let r = 0; r < rounds; r++)
    for (const n of names) {
      const t = performance.now();
      await s[n].run({ x });
      ms[n].push(performance.now() - t);
    }
  return ms;
};
window.ready = true;
</script>`;

const missing = chromiumMissing();
if (missing) {
  console.log(`skipped: ${missing}`);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'hcd-variants-'));
  try {
    mkdirSync(join(dir, 'm'));
    const models = new Map(VARIANTS.map((v) => [name(v), upscaler(v)]));
    for (const [n, m] of models) writeFileSync(join(dir, 'm', `${n}.onnx`), encodeModel(m));
    writeFileSync(join(dir, 'index.html'), PAGE);
    const server = await serveStatic({ '/ort/': join(ROOT, 'node_modules/onnxruntime-web/dist'), '/m/': join(dir, 'm'), '/': dir });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${server.url}/index.html`);
      await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
      const names = VARIANTS.map(name);
      const ms = await page.evaluate(
        ([n, t, ww, hh, r]) => (window as unknown as { run: (...a: unknown[]) => Promise<Record<string, number[]>> }).run(n, t, ww, hh, r),
        [names, threads, w, h, rounds] as const,
      );
      const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
      const base = median(ms[names[0]]);
      console.log(`onnxruntime-web WASM, ${threads} thread(s), ${w}x${h} -> ${2 * w}x${2 * h}, ${rounds} interleaved rounds`);
      for (const v of VARIANTS) {
        const model = models.get(name(v));
        if (!model) throw new Error(name(v));
        const macs = modelStats(model, [h, w]).macs / (4 * w * h);
        const m = median(ms[name(v)]);
        console.log(`${name(v).padEnd(14)} ${m.toFixed(1).padStart(6)} ms  x${(m / base).toFixed(2)}  (${Math.round(macs)} MACs per output pixel)`);
      }
      console.log(`variants_v1_over_shipped=${(median(ms['prelu-h3-c16']) / base).toFixed(2)}`);
    } finally {
      await browser.close();
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
