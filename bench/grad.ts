/**
 * `npm run bench:grad`: cost of one loss-and-gradient evaluation relative to one forward pass,
 * for a 6-layer 32-channel x2 upscaler (3×3 Conv+Relu ×5, Conv to 12 channels, DepthToSpace) on a
 * 1×3×180×320 input. HCD runs ~30 gradient evaluations per frame, so this ratio sets encode speed.
 * Both are timed in this one run, interleaved (warm-up, then the median of N run pairs).
 *
 * Options: --runs N (default 15), --threads T (default: every core), --h H --w W.
 * Last line: grad_over_forward=<ratio>.
 */
import { buildGradientModel } from '../src/encoder/graph/autodiff/index.js';
import { attr, convAttrs, GraphBuilder } from '../src/encoder/graph/builder.js';
import { createSession, ort } from '../src/encoder/graph/session.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const runs = arg('runs', 15);
const threads = arg('threads', 0) || undefined;
const H = arg('h', 180);
const W = arg('w', 320);

function rand(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

function upscaler() {
  const r = rand(1);
  const b = new GraphBuilder('bench_upscaler');
  b.input('x', [1, 3, 'H', 'W']);
  let h = 'x';
  let cin = 3;
  for (let i = 0; i < 6; i++) {
    const cout = i === 5 ? 12 : 32;
    // He-style scale keeps activations in range through the stack
    const scale = Math.sqrt(6 / (cin * 9));
    const w = b.initializer(`w${i}`, Float32Array.from({ length: cout * cin * 9 }, () => r() * 2 * scale), [cout, cin, 3, 3]);
    const bias = b.initializer(`b${i}`, Float32Array.from({ length: cout }, () => r() * 0.1), [cout]);
    h = b.op('Conv', [h, w, bias], convAttrs(3));
    if (i < 5) h = b.op('Relu', [h]);
    cin = cout;
  }
  const y = b.op('DepthToSpace', [h], { blocksize: attr.int(2), mode: attr.string('CRD') });
  b.output(y, [1, 3, 'H2', 'W2']);
  return { model: b.toModel(), y };
}

const med = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/**
 * Interleaves forward and gradient runs so that both see the same machine load (a shared
 * machine drifts by tens of percent within seconds); the ratio is the median of per-pair ratios.
 */
async function timePairs(f: () => Promise<unknown>, g: () => Promise<unknown>) {
  for (let i = 0; i < 3; i++) {
    await f();
    await g();
  }
  const tf: number[] = [];
  const tg: number[] = [];
  for (let i = 0; i < runs; i++) {
    let t0 = performance.now();
    await f();
    tf.push(performance.now() - t0);
    t0 = performance.now();
    await g();
    tg.push(performance.now() - t0);
  }
  return { fwd: med(tf), grad: med(tg), ratio: med(tf.map((t, i) => tg[i] / t)) };
}

async function main() {
  const { model, y } = upscaler();
  const grad = buildGradientModel(model, { wrt: ['x'], loss: { kind: 'mse', output: y } });
  const r = rand(2);
  const x = new ort.Tensor('float32', Float32Array.from({ length: 3 * H * W }, () => r() + 0.5), [1, 3, H, W]);
  const target = new ort.Tensor('float32', Float32Array.from({ length: 3 * 4 * H * W }, () => r() + 0.5), [1, 3, 2 * H, 2 * W]);
  const fwd = await createSession(model, { threads });
  const gs = await createSession(grad, { threads });
  const t = await timePairs(
    () => fwd.run({ x }),
    () => gs.run({ x, target }),
  );
  const ops = (grad.graph?.node ?? []).reduce<Record<string, number>>((a, n) => ({ ...a, [n.opType ?? '?']: (a[n.opType ?? '?'] ?? 0) + 1 }), {});
  console.log(`input 1x3x${H}x${W}, ${runs} interleaved run pairs (median), threads ${threads ?? 'all'}`);
  console.log(`gradient graph: ${grad.graph?.node?.length} nodes (${Object.entries(ops).map(([k, v]) => `${k} ${v}`).join(', ')})`);
  console.log('| pass                 | ms      |');
  console.log('|----------------------|---------|');
  console.log(`| forward              | ${t.fwd.toFixed(1).padStart(7)} |`);
  console.log(`| loss + grad wrt x    | ${t.grad.toFixed(1).padStart(7)} |`);
  await fwd.release();
  await gs.release();
  console.log(`grad_over_forward=${t.ratio.toFixed(2)}`);
}

await main();
