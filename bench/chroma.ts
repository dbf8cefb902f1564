/**
 * Where a rescaling pair's gain goes on its way to the viewer: Y-PSNR of HR -> D -> 8-bit -> U
 * with the LR (1) as is, (2) through the 4:2:0 round trip every streamed frame takes (the
 * encoder's own ffmpeg conversion to BT.709 limited 4:2:0 and back, no codec), and (3) through
 * x264 as a still at one CRF, with its bytes. With --hcd HR,LR it also runs HCD on the pair, on
 * RGB (chroma 444, the paper's way) and through 4:2:0 (chroma 420, what `hcd encode` does).
 *
 *   node --import tsx bench/chroma.ts [--pairs hcd-x2,bicubic-x2] [--sets Set5] [--data DIR]
 *                                     [--crf 23] [--hcd 1,2] [--threads 2]
 *
 * Needs /work/shared/data/eval (or --data: folders of PNGs); skips cleanly without it. Prints
 * one `key=value` line per pair, set and path for `npm run bench`.
 */
import { parseIters } from '../src/cli/flags.js';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Hcd } from '../src/encoder/hcd/hcd.js';
import type { HcdPair } from '../src/encoder/hcd/nets.js';
import { VIDEO_HCD_OPTIONS } from '../src/encoder/hcd/options.js';
import { cropTo, pairRunner, readPng, yPsnr } from '../src/encoder/pairs/eval.js';
import { resolvePair } from '../src/encoder/pairs/index.js';
import { realX264, realYuv420 } from '../src/train/proxycheck.js';
import { imageToTensor, tensorToImage, type RgbImage } from '../src/shared/image.js';

const { values } = parseArgs({
  options: {
    pairs: { type: 'string', default: 'hcd-x2,bicubic-x2' },
    sets: { type: 'string', default: 'Set5' },
    data: { type: 'string', default: '/work/shared/data/eval' },
    crf: { type: 'string', default: '23' },
    hcd: { type: 'string' },
    threads: { type: 'string', default: '2' },
  },
});

if (!existsSync(values.data)) {
  console.log(`skipped: ${values.data} not found`);
  process.exit(0);
}
const crf = Number(values.crf);
const threads = Number(values.threads);
const hcdIters = values.hcd === undefined ? undefined : parseIters(values.hcd);
const lines: string[] = [];
for (const id of values.pairs.split(',')) {
  const pair = await resolvePair(id);
  const s = pair.manifest.scale;
  const run = await pairRunner(pair, threads);
  const hcds: [string, Hcd][] = [];
  if (hcdIters && !id.startsWith('bicubic')) {
    for (const chroma of ['444', '420'] as const) {
      const o = { ...VIDEO_HCD_OPTIONS, iters: hcdIters, threads, chroma };
      hcds.push([`hcd${chroma}`, await Hcd.create(pair as HcdPair, o)]);
    }
  }
  for (const set of values.sets.split(',')) {
    const dir = join(values.data, set);
    const files = readdirSync(dir).filter((f) => f.endsWith('.png')).sort();
    const acc = new Map<string, number[]>();
    const add = (k: string, v: number) => acc.set(k, [...(acc.get(k) ?? []), v]);
    for (const f of files) {
      // a multiple of 2*scale: the LR must have even sides for 4:2:0
      const hr = cropTo(await readPng(join(dir, f)), 2 * s);
      const lrs: [string, RgbImage][] = [['plain', await run.down(hr)]];
      for (const [name, h] of hcds) {
        const r = await h.run({ data: imageToTensor(hr), width: hr.width, height: hr.height });
        lrs.push([name, tensorToImage(r.lr.data, r.lr.width, r.lr.height)]);
      }
      for (const [name, lr] of lrs) {
        add(`${name}.lossless`, yPsnr(hr, await run.up(lr), s));
        add(`${name}.yuv420`, yPsnr(hr, await run.up420(await realYuv420(lr)), s));
        const coded = await realX264(lr, crf);
        add(`${name}.x264_crf${crf}`, yPsnr(hr, await run.up420(coded.img), s));
        add(`${name}.x264_crf${crf}_bytes`, coded.bytes);
      }
    }
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    const row = [...acc].map(([k, v]) => `${k} ${mean(v).toFixed(k.endsWith('bytes') ? 0 : 2)}`);
    console.log(`${id} ${set} (${files.length} images): ${row.join(' | ')}`);
    for (const [k, v] of acc) lines.push(`${id.replace(/[^\w]/g, '_')}.${set}.${k}=${mean(v).toFixed(k.endsWith('bytes') ? 0 : 3)}`);
  }
  for (const [, h] of hcds) await h.close();
}
console.log(lines.join('\n'));
