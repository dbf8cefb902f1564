/**
 * Y-PSNR of the built-in rescaling pairs on Set5/Set14: HR -> D -> 8-bit -> U -> 8-bit, luma
 * PSNR with `scale` pixels shaved (the usual SR protocol). For the bicubic pairs it also runs
 * the MATLAB-exact JS reference (symmetric borders) to show what the reflect borders cost.
 *
 *   node --import tsx bench/pairs.ts [--pairs bicubic-x2,rdn-x2] [--sets Set5,Set14] [--data DIR]
 *
 * Needs /work/shared/data/eval (or --data); skips cleanly without it.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { imageToTensor, tensorToImage, type RgbImage } from '../src/shared/image.js';
import { cropTo, pairRunner, readPng, yPsnr } from '../src/encoder/pairs/eval.js';
import { resolvePair } from '../src/encoder/pairs/index.js';
import { imresizeRef } from '../src/encoder/pairs/reference.js';

const { values } = parseArgs({
  options: {
    pairs: { type: 'string', default: 'bicubic-x2,bicubic-x4,rdn-x2,rdn-x4' },
    sets: { type: 'string', default: 'Set5,Set14' },
    data: { type: 'string', default: '/work/shared/data/eval' },
    'no-ref': { type: 'boolean', default: false },
  },
});

function refResize(img: RgbImage, scale: number): RgbImage {
  const r = imresizeRef(imageToTensor(img), 3, img.height, img.width, scale, 'symmetric');
  return tensorToImage(r.data, r.width, r.height);
}

if (!existsSync(values.data)) {
  console.log(`skipped: ${values.data} not found`);
  process.exit(0);
}
const results: string[] = [];
for (const id of values.pairs.split(',')) {
  const pair = await resolvePair(id);
  const s = pair.manifest.scale;
  const run = await pairRunner(pair);
  for (const set of values.sets.split(',')) {
    const dir = join(values.data, set);
    const files = readdirSync(dir).filter((f) => f.endsWith('.png')).sort();
    let sum = 0;
    let sumRef = 0;
    const withRef = id.startsWith('bicubic') && !values['no-ref'];
    const t0 = performance.now();
    for (const f of files) {
      const hr = cropTo(await readPng(join(dir, f)), s);
      const out = await run.up(await run.down(hr));
      const p = yPsnr(hr, out, s);
      sum += p;
      let line = `${id} ${set}/${f} ${hr.width}x${hr.height} Y-PSNR ${p.toFixed(2)} dB`;
      if (withRef) {
        const ref = refResize(refResize(hr, 1 / s), s);
        const pr = yPsnr(hr, ref, s);
        sumRef += pr;
        line += ` (MATLAB-exact JS reference ${pr.toFixed(2)} dB)`;
      }
      console.log(line);
    }
    const mean = sum / files.length;
    const secs = (performance.now() - t0) / 1000;
    console.log(`${id} ${set}: mean Y-PSNR ${mean.toFixed(2)} dB over ${files.length} images (${secs.toFixed(1)} s)`);
    // run-all.ts collects lines matching /^[\w.]+=/
    const key = `${id.replace(/-/g, '_')}.${set}`;
    results.push(`${key}=${mean.toFixed(2)}`);
    if (withRef) results.push(`${key}.matlabRef=${(sumRef / files.length).toFixed(2)}`);
  }
}
for (const r of results) console.log(r);
