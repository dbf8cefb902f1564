/**
 * For training checkpoints: on the held-out crops (every 10th training image, 4 crops of 128x128
 * each, as `hcd train` validates), the rate proxy of the LR, the bytes x264 spends on the LR
 * (all crops tiled into one picture, CRF 26 and 34), and the PSNR after U with the LR through
 * x264 at CRF 32 (`psnrX264`). Not run by `npm run bench`.
 *
 *   node --import tsx bench/_lr-rate.ts CHECKPOINT.json... [--data DIR]
 */
import { loadCheckpoint } from '../src/train/checkpoint.js';
import { addRateProxy } from '../src/train/codec.js';
import { loadImages, splitImages, validationCrops } from '../src/train/data.js';
import { buildLrModel } from '../src/train/graph.js';
import { realX264 } from '../src/train/proxycheck.js';
import type { TrainConfig } from '../src/train/trainer.js';
import { tileCrops, validateX264 } from '../src/train/x264.js';
import { GraphBuilder } from '../src/encoder/graph/builder.js';
import { createSession, ort } from '../src/encoder/graph/session.js';

const args = process.argv.slice(2);
const di = args.indexOf('--data');
const data = di >= 0 ? args.splice(di, 2)[1] : '/work/shared/data/train';
if (!args.length) {
  console.error('usage: node --import tsx bench/_lr-rate.ts CHECKPOINT.json... [--data DIR]');
  process.exit(2);
}
const { val } = splitImages(await loadImages([data], 64), 10);
const p = 128;
const crops = validationCrops(val, p, 4);
const n = crops.length;
const x = new Float32Array(n * 3 * p * p);
crops.forEach((c, k) => x.set(c, k * 3 * p * p));
const g = new GraphBuilder('rate');
addRateProxy(g, g.input('x', ['N', 3, 'H', 'W']), 'rate');
g.output('rate', []);
const rateSess = await createSession(g.toModel(), { threads: 1 });
for (const file of args) {
  const { state, config } = await loadCheckpoint(file);
  const arch = (config as TrainConfig).arch;
  const h = p / arch.scale;
  const lr = await createSession(buildLrModel(state.params, arch, { chroma: '420' }), { threads: 1 });
  const o = await lr.run({ x: new ort.Tensor('float32', x, [n, 3, p, p]) });
  await lr.release();
  const rate = ((await rateSess.run({ x: o.sub })).rate.data as Float32Array)[0];
  const tiled = tileCrops(o.q.data as Float32Array, n, h, h);
  const bytes = [];
  for (const crf of [26, 34]) bytes.push((await realX264(tiled, crf)).bytes);
  const psnr = await validateX264(state.params, arch, crops, p, 32, 1);
  console.log(`${file} (step ${state.step}): rate ${rate.toFixed(3)}, LR bytes CRF 26 ${bytes[0]}, CRF 34 ${bytes[1]}, PSNR after x264 CRF 32 ${psnr.toFixed(2)} dB`);
}
await rateSess.release();
