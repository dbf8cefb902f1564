/**
 * Held-out validation of training checkpoints as `hcd train` computes it (RGB PSNR, LR vs
 * bicubic-down, and PSNR through 4:2:0), plus the untrained pair (exactly bicubic) for
 * reference. Not run by `npm run bench`.
 *
 *   node --import tsx bench/_train-val.ts CHECKPOINT.json... [--data /work/shared/data/train]
 */
import { parseArgs } from 'node:util';
import { loadCheckpoint } from '../src/train/checkpoint.js';
import { loadImages, splitImages, validationCrops } from '../src/train/data.js';
import { defaultArch } from '../src/train/nets.js';
import { defaultConfig, initialState, validate, type TrainConfig } from '../src/train/trainer.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { data: { type: 'string', default: '/work/shared/data/train' } } });
const imgs = await loadImages([values.data], 64);
const { val } = splitImages(imgs, 10);
const crops = validationCrops(val, 128, 4);
const row = (name: string, v: { psnr: number; lrPsnr: number; psnr420?: number }) =>
  console.log(`${name}: RGB ${v.psnr.toFixed(3)} dB, through 4:2:0 ${v.psnr420?.toFixed(3)} dB, LR vs bicubic ${v.lrPsnr.toFixed(2)} dB`);
const bic = defaultArch(2);
row('bicubic (untrained x2 pair)', await validate(initialState(defaultConfig(2, bic)).params, bic, crops, 128, 1, true));
for (const f of positionals) {
  const c = await loadCheckpoint(f);
  row(`${f} (step ${c.state.step})`, await validate(c.state.params, (c.config as TrainConfig).arch, crops, 128, 1, true));
}
