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
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runFfmpeg } from '../src/encoder/ffmpeg.js';
import { RGB_TO_YUV709 } from '../src/encoder/compare/pipe.js';
import { Hcd } from '../src/encoder/hcd/hcd.js';
import type { HcdPair } from '../src/encoder/hcd/nets.js';
import { VIDEO_HCD_OPTIONS } from '../src/encoder/hcd/rescaler.js';
import { cropTo, pairRunner, readPng, yPsnr } from '../src/encoder/pairs/eval.js';
import { resolvePair } from '../src/encoder/pairs/index.js';
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

/** Back from BT.709 limited 4:2:0 to RGB, as `readFrames` and the compare tool decode. */
const YUV_TO_RGB = 'scale=in_color_matrix=bt709:in_range=tv:flags=bicubic+accurate_rnd+full_chroma_int,format=rgb24';

function raw(img: RgbImage): string[] {
  return ['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${img.width}x${img.height}`, '-i', 'pipe:0'];
}

async function decodeTo(img: RgbImage, args: string[], input: Buffer): Promise<RgbImage> {
  const { stdout } = await runFfmpeg(['-v', 'error', ...args, '-i', 'pipe:0', '-vf', YUV_TO_RGB, '-f', 'rawvideo', 'pipe:1'], { input });
  return { ...img, data: new Uint8Array(stdout.buffer, stdout.byteOffset, img.data.length) };
}

async function through420(img: RgbImage): Promise<RgbImage> {
  const { stdout } = await runFfmpeg(['-v', 'error', ...raw(img), '-vf', RGB_TO_YUV709, '-f', 'rawvideo', 'pipe:1'], { input: Buffer.from(img.data) });
  return decodeTo(img, ['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${img.width}x${img.height}`], stdout);
}

async function throughX264(img: RgbImage, crf: number): Promise<{ img: RgbImage; bytes: number }> {
  const { stdout } = await runFfmpeg(['-v', 'error', ...raw(img), '-vf', RGB_TO_YUV709, '-c:v', 'libx264', '-preset', 'medium', '-crf', String(crf), '-frames:v', '1', '-f', 'h264', 'pipe:1'], { input: Buffer.from(img.data) });
  return { img: await decodeTo(img, ['-f', 'h264'], stdout), bytes: stdout.length };
}

if (!existsSync(values.data)) {
  console.log(`skipped: ${values.data} not found`);
  process.exit(0);
}
const crf = Number(values.crf);
const threads = Number(values.threads);
const hcdIters = values.hcd?.split(',').map(Number);
const lines: string[] = [];
for (const id of values.pairs.split(',')) {
  const pair = await resolvePair(id);
  const s = pair.manifest.scale;
  const run = await pairRunner(pair, threads);
  const hcds: [string, Hcd][] = [];
  if (hcdIters && !id.startsWith('bicubic')) {
    for (const chroma of ['444', '420'] as const) {
      const o = { ...VIDEO_HCD_OPTIONS, hrIters: hcdIters[0], lrIters: hcdIters[1], threads, chroma };
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
        add(`${name}.yuv420`, yPsnr(hr, await run.up(await through420(lr)), s));
        const coded = await throughX264(lr, crf);
        add(`${name}.x264_crf${crf}`, yPsnr(hr, await run.up(coded.img), s));
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
