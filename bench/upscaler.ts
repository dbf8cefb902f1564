/**
 * The learned pair's upscaler: CPU speed (onnxruntime-node, as a stand-in for the browser) and,
 * with --quality, the acceptance measurements of the pair on Set5/Set14 (lossless and through
 * x264 at CRF 23/28/33 against bicubic and bicubic+RDN).
 *
 *   node --import tsx bench/upscaler.ts [--pair hcd-x2] [--threads 4] [--runs 5] [--quality] [--sets Set5,Set14] [--data DIR] [--json] [--write-manifest]
 *
 * --write-manifest stores the quality figures in the pair's manifest.json (provenance.measured).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../src/encoder/media/files.js';
import { modelStats, resolvePair } from '../src/encoder/pairs/index.js';
import { PairNetwork } from '../src/encoder/pairs/network.js';
import { evaluatePairOnSet } from '../src/train/evaluate.js';

const { values } = parseArgs({
  options: {
    pair: { type: 'string', default: 'hcd-x2' },
    threads: { type: 'string', default: '4' },
    runs: { type: 'string', default: '5' },
    quality: { type: 'boolean', default: false },
    sets: { type: 'string', default: 'Set5,Set14' },
    data: { type: 'string', default: '/work/shared/data/eval' },
    json: { type: 'boolean', default: false },
    'write-manifest': { type: 'boolean', default: false },
  },
});

const pair = await resolvePair(values.pair);
const s = pair.manifest.scale;
const threads = Number(values.threads);
const runs = Number(values.runs);
const up = await PairNetwork.up(pair, '420', { threads });
const report: Record<string, unknown> = { pair: pair.id, scale: s, threads };
const sizes: [number, number][] = [
  [1920, 1080],
  [640, 360],
];
for (const [W, H] of sizes) {
  const w = W / s;
  const h = H / s;
  const x = { data: new Float32Array(3 * w * h).fill(0.5), width: w, height: h };
  await up.runPlanar(x); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await up.runPlanar(x);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const { macs, params } = modelStats(pair.upscaler, [h, w]);
  const key = `${w}x${h}->${W}x${H}`;
  report[key] = { median_ms: Math.round(times[Math.floor(runs / 2)] * 10) / 10, gmac: Math.round(macs / 1e7) / 100, params };
  if (!values.json) console.log(`${pair.id} U ${key}: ${report[key] && (report[key] as { median_ms: number }).median_ms} ms median of ${runs} (${threads} threads), ${(macs / 1e9).toFixed(2)} GMAC, ${params} params`);
}
await up.close();

if (values.quality) {
  if (!existsSync(values.data)) {
    console.log(`quality skipped: ${values.data} not found`);
  } else {
    for (const set of values.sets.split(',')) {
      const r = await evaluatePairOnSet(values.pair, join(values.data, set), { threads });
      report[set] = r;
      if (values.json) continue;
      console.log(`${pair.id} ${set} (${r.images} images): lossless Y-PSNR ${r.losslessPsnrY.toFixed(2)} dB${r.losslessUpscaler === 'stillUpscaler' ? ' (still upscaler)' : ''}, LR vs bicubic ${r.lrPsnr.toFixed(2)} dB (both through 4:2:0, as streamed: ${r.lrPsnr420.toFixed(2)} dB)`);
      for (const [k, pts] of Object.entries(r.codec))
        console.log(`  x264 ${k.padEnd(16)} ${pts.map((p) => `crf${p.crf}: ${p.bytes} B ${p.psnrY.toFixed(2)} dB`).join(' | ')}`);
      console.log(`  BD-PSNR of the pair at equal bytes: ${Object.entries(r.bdPsnr).map(([k, v]) => `vs ${k} ${v === null ? 'n/a' : `${v > 0 ? '+' : ''}${v} dB`}`).join(', ')}`);
    }
  }
}
if (values.json) console.log(JSON.stringify(report));
if (values['write-manifest'] && values.quality && pair.dir) {
  const file = join(pair.dir, 'manifest.json');
  const m = JSON.parse(readFileSync(file, 'utf8')) as { provenance?: Record<string, unknown> };
  const prev = (m.provenance?.measured ?? {}) as Record<string, unknown>;
  const command = `node --import tsx bench/upscaler.ts --pair ${values.pair} --quality --sets ${values.sets} --data ${values.data}`;
  const sets = Object.fromEntries(values.sets.split(',').filter((k) => report[k]).map((k) => [k, { ...(report[k] as object), command }]));
  m.provenance = { ...m.provenance, measured: { ...prev, ...sets } };
  await writeFileAtomic(file, Buffer.from(`${JSON.stringify(m, null, 2)}\n`));
  console.log(`wrote measured figures into ${file}`);
}
