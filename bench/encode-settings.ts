/**
 * Which HCD iterations the encoder can afford: per-frame HCD gain (Y-PSNR of U(LR) against the
 * source frame, over the pair without HCD) and seconds per frame for several settings on
 * consecutive frames of a real clip, each with the HcdRescaler as `hcd encode` runs it (warm
 * start within the run, official eps). The reference is full 15+15 HCD; a setting qualifies for
 * the default when it keeps >= 80 % of that gain at >= 1 frame/s for the whole encode.
 *
 *   node --import tsx bench/encode-settings.ts [--input FILE] [--start S] [--frames N]
 *        [--model hcd-x2] [--settings 15,15:1,2:0,6] [--lanes N] [--alpha A]
 *
 * Prints a table and `encode_settings.<hr>_<lr>.{gain_db,share,s_per_frame}=` lines.
 */
import { existsSync } from 'node:fs';
import { readFrames } from '../src/encoder/media/decode.js';
import { probeSource, fitToScale } from '../src/encoder/media/probe.js';
import { loadPair, defaultModelId } from '../src/encoder/pairs/load.js';
import { PairNetwork } from '../src/encoder/pairs/network.js';
import { PairRescaler } from '../src/encoder/pairs/runtime.js';
import { createRescaler } from '../src/encoder/hcd/rescalers.js';
import type { RgbImage } from '../src/shared/image.js';
import { psnrY } from '../src/shared/metrics.js';
import { makeSample } from '../samples/make-sample.js';
import type { HcdOptions } from '../src/encoder/hcd/options.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const BBB = '/work/shared/data/video/big_buck_bunny_640x360.mp4';

async function main(): Promise<void> {
  let input = arg('input', existsSync(BBB) ? BBB : '');
  const start = Number(arg('start', input === BBB ? '30' : '0'));
  if (!input) {
    input = '/tmp/hcd-bench-sample.mp4';
    if (!existsSync(input)) await makeSample(input);
  }
  const frames = Number(arg('frames', '6'));
  const pair = await loadPair(arg('model', defaultModelId()));
  const s = pair.manifest.scale;
  const settings = arg('settings', '15,15:1,2:0,6')
    .split(':')
    .map((t) => t.split(',').map(Number) as [number, number]);

  const src = await probeSource(input);
  const geo = fitToScale(src.width, src.height, s);
  const hr: RgbImage[] = [];
  const filter = [`trim=start=${start}`, 'setpts=PTS-STARTPTS', geo.crop].filter(Boolean).join(',');
  for await (const f of readFrames(input, { width: geo.width, height: geo.height, filter, matrix: src.matrix, range: src.range })) {
    hr.push({ width: geo.width, height: geo.height, data: f });
    if (hr.length === frames) break;
  }
  const up = await PairNetwork.up(pair, '420');
  const score = async (lr: RgbImage, ref: RgbImage): Promise<number> => psnrY((await up.runRgb(lr)).data, ref.data, ref.width, ref.height, { crop: s });
  const plain = await PairRescaler.create(pair, {});
  const base: number[] = [];
  for (let i = 0; i < hr.length; i++) base.push(await score(await plain.process(hr[i], { index: i, sceneCut: i === 0 }), hr[i]));
  await plain.close();

  process.stdout.write(`${pair.manifest.id}, ${hr.length} consecutive frames of ${input} from ${start} s at ${geo.width}x${geo.height}; pair alone ${(base.reduce((a, b) => a + b, 0) / base.length).toFixed(3)} dB Y\n`);
  process.stdout.write('hr,lr  gain dB  share of first  s/frame\n');
  let reference: number | undefined;
  for (const [h, l] of settings) {
    const lanes = process.argv.includes('--lanes') ? Number(arg('lanes', '2')) : undefined;
    const alpha = process.argv.includes('--alpha') ? Number(arg('alpha', '0')) : undefined;
    const hcdOptions: Partial<HcdOptions> = { ...(lanes ? { lanes } : {}), ...(alpha ? { alpha } : {}) };
    const r = await createRescaler(pair, { hcdIters: [h, l], hcdOptions });
    let gain = 0;
    const t0 = performance.now();
    for (let i = 0; i < hr.length; i++) gain += (await score(await r.process(hr[i], { index: i, sceneCut: i === 0 }), hr[i])) - base[i];
    const sec = (performance.now() - t0) / 1000 / hr.length;
    await r.close();
    gain /= hr.length;
    reference ??= gain;
    const share = gain / reference;
    process.stdout.write(`${h},${l}  ${gain.toFixed(3)}  ${(100 * share).toFixed(0)} %  ${sec.toFixed(2)}\n`);
    process.stdout.write(`encode_settings.${h}_${l}.gain_db=${gain.toFixed(4)}\nencode_settings.${h}_${l}.share=${share.toFixed(3)}\nencode_settings.${h}_${l}.s_per_frame=${sec.toFixed(3)}\n`);
  }
  await up.close();
}

await main();
