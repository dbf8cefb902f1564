/**
 * A picture of what a still stage (hcd train --still-stage) puts into the LR, on a picture the
 * project makes itself (ffmpeg's lavfi Mandelbrot with boosted colour, no third-party media).
 * Top row, LR magnified 4x: bicubic down; the pair's LR as a lossless PNG (with the detail its
 * hiding branch puts into colour); the same LR after the encoder's 4:2:0 conversion (what is
 * streamed, and what viewers without the upscaler see). Bottom row, HR magnified 2x: the source;
 * the still upscaler on the PNG LR; U on the streamed LR. On stdout, Y-PSNR of both and of bicubic
 * on three synthetic pictures. Not run by `npm run bench`: it writes into docs/.
 *
 *   node --import tsx bench/_still-figure.ts [--pair hcd-x2] [--out docs/img/still-head.png]
 */
import { parseArgs } from 'node:util';
import { PNG } from 'pngjs';
import { runFfmpeg } from '../src/encoder/media/ffmpeg.js';
import { writeFileAtomic } from '../src/encoder/media/files.js';
import { pairRunner, yPsnr } from '../src/encoder/pairs/eval.js';
import { resolvePair } from '../src/encoder/pairs/index.js';
import { realYuv420 } from '../src/train/proxycheck.js';
import type { RgbImage } from '../src/shared/image.js';

const { values } = parseArgs({ options: { pair: { type: 'string', default: 'hcd-x2' }, out: { type: 'string', default: 'docs/img/still-head.png' } } });
const W = 256;
const H = 192;
/** Synthetic pictures, the first one drawn: saturated colour texture is where a still head can misread colour as hidden detail. */
const SOURCES: [string, string][] = [
  ['mandelbrot, colour x2', `mandelbrot=s=${W}x${H}:end_pts=1:start_scale=0.4,hue=h=40:s=2`],
  ['mandelbrot', `mandelbrot=s=${W}x${H}:end_pts=1:start_scale=0.4`],
  ['testsrc2', `testsrc2=s=${W}x${H}`],
];
async function picture(graph: string): Promise<RgbImage> {
  const { stdout } = await runFfmpeg(['-v', 'error', '-f', 'lavfi', '-i', graph, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
  return { width: W, height: H, data: new Uint8Array(stdout.buffer, stdout.byteOffset, W * H * 3) };
}
const pair = await resolvePair(values.pair);
const s = pair.manifest.scale;
const run = await pairRunner(pair, 2);
const bic = await pairRunner(await resolvePair(`bicubic-x${s}`), 2);
for (const [name, graph] of SOURCES) {
  const img = await picture(graph);
  const l = await run.down(img);
  const still = yPsnr(img, await run.up(l), s);
  const streamedU = yPsnr(img, await run.up420(await realYuv420(l)), s);
  const bicubic = yPsnr(img, await bic.up(await bic.down(img)), s);
  console.log(`${name}: Y-PSNR still upscaler on the PNG LR ${still.toFixed(2)} dB, U on the streamed LR ${streamedU.toFixed(2)} dB, bicubic ${bicubic.toFixed(2)} dB`);
}
const hr = await picture(SOURCES[0][1]);
const lr = await run.down(hr);
const streamed = await realYuv420(lr);
const hrStill = await run.up(lr);
const hrStreamed = await run.up420(streamed);

/** An n x n window at (x, y), each pixel drawn mag x mag. */
function zoom(img: RgbImage, x: number, y: number, n: number, mag: number): RgbImage {
  const side = n * mag;
  const data = new Uint8Array(side * side * 3);
  for (let j = 0; j < side; j++)
    for (let i = 0; i < side; i++) {
      const src = 3 * ((y + Math.floor(j / mag)) * img.width + x + Math.floor(i / mag));
      data.set(img.data.subarray(src, src + 3), 3 * (j * side + i));
    }
  return { width: side, height: side, data };
}

const n = 48;
const [x0, y0] = [40, 24];
const rows = [
  [await bic.down(hr), lr, streamed].map((im) => zoom(im, x0, y0, n, 4)),
  [hr, hrStill, hrStreamed].map((im) => zoom(im, x0 * s, y0 * s, n * s, 4 / s)),
];
const gap = 6;
const side = n * 4;
const png = new PNG({ width: 3 * side + 2 * gap, height: 2 * side + gap });
png.data.fill(255);
rows.forEach((row, r) =>
  row.forEach((t, c) => {
    for (let j = 0; j < side; j++)
      for (let i = 0; i < side; i++) {
        const o = 4 * ((r * (side + gap) + j) * png.width + c * (side + gap) + i);
        png.data.set(t.data.subarray(3 * (j * side + i), 3 * (j * side + i) + 3), o);
      }
  }),
);
await writeFileAtomic(values.out, PNG.sync.write(png));
console.log(`wrote ${values.out}`);
