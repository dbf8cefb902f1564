/**
 * `npm run bench -- hcd`: HCD speed on one image. Prints seconds per image, the share of JS in
 * the optimization loop (target < 10%), and one lane with every thread against tiles in
 * parallel lanes of one thread each. Each lane setting runs --reps times after a short warm-up:
 * the first run shows the JIT still compiling the loop, the median the steady state that an
 * eval over many images or a video encode sees.
 *
 *   node --import tsx bench/hcd.ts [image.png] [--model rdn-x2] [--iters 15] [--reps 3]
 *   node --import tsx bench/hcd.ts --video [--frames 6] [--model bicubic-x2] [--iters 15] [--warm-iters 3]
 * Without an image it uses a generated 512x512 picture (4 tiles at x2), so it runs without the shared data.
 * --video runs the HcdRescaler on the first frames of the bundled sample clip, warm-started
 * with fewer iterations against cold starts with all of them, and prints the SR PSNR per frame.
 */
import { cpus } from 'node:os';
import { readImage } from '../src/encoder/media/png.js';
import { resolvePair } from '../src/encoder/pairs/index.js';
import { Hcd } from '../src/encoder/hcd/hcd.js';
import { fitToScale, imageToPlanar } from '../src/encoder/hcd/quality.js';
import { tensorToImage, type RgbImage } from '../src/shared/image.js';
import { psnr } from '../src/shared/metrics.js';
import { readFrames } from '../src/encoder/media/decode.js';
import { HcdRescaler } from '../src/encoder/hcd/rescaler.js';
import { PlainPair } from '../src/encoder/pairs/plain.js';
import { ensureSample } from '../samples/make-sample.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}

function generated(w: number, h: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = Math.round(127.5 + 100 * Math.sin(x * (0.2 + 0.1 * c) + y * 0.13) * Math.cos(y * 0.05));
  return { width: w, height: h, data };
}

async function video(): Promise<void> {
  const model = arg('model', 'bicubic-x2');
  const iters = Number(arg('iters', '15'));
  const warmIters = Number(arg('warm-iters', '3'));
  const count = Number(arg('frames', '6'));
  const pair = await resolvePair(model);
  const clip = await ensureSample();
  const frames: RgbImage[] = [];
  for await (const f of readFrames(clip, { width: 640, height: 360 })) {
    frames.push({ width: 640, height: 360, data: f });
    if (frames.length >= count) break;
  }
  const up = await PlainPair.create(pair);
  const srPsnr = async (hr: RgbImage, lr: RgbImage) => {
    const y = await up.upscale(imageToPlanar(lr));
    return psnr(tensorToImage(y.data, y.width, y.height).data, hr.data, { width: 640, height: 360, crop: pair.manifest.scale });
  };
  const plain = await PlainPair.create(pair);
  const warm = await HcdRescaler.create(pair, { iters: [iters, iters], warmIters: [warmIters, warmIters] });
  const cold = await HcdRescaler.create(pair, { iters: [warmIters, warmIters] });
  const coldFull = await HcdRescaler.create(pair, { iters: [iters, iters] });
  process.stdout.write(`sample clip 640x360, ${model}, first frame ${iters}+${iters}, then warm ${warmIters}+${warmIters}; cold ${warmIters}+${warmIters} and cold ${iters}+${iters} for comparison\n`);
  const sums = { pair: 0, warm: 0, cold: 0, coldFull: 0, warmS: 0, coldS: 0, coldFullS: 0 };
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    const base = await srPsnr(f, tensorToImage((await plain.downscale(imageToPlanar(f))).data, 320, 180));
    const w = await srPsnr(f, await warm.process(f, { index: i, sceneCut: i === 0 }));
    const ws = warm.last?.seconds ?? 0;
    const c = await srPsnr(f, await cold.process(f, { index: i, sceneCut: true }));
    const cs = cold.last?.seconds ?? 0;
    const cf = await srPsnr(f, await coldFull.process(f, { index: i, sceneCut: true }));
    const cfs = coldFull.last?.seconds ?? 0;
    process.stdout.write(
      `frame ${i}: pair ${base.toFixed(2)} dB; warm ${w.toFixed(2)} dB (${ws.toFixed(1)} s); cold ${warmIters}+${warmIters} ${c.toFixed(2)} dB (${cs.toFixed(1)} s); cold ${iters}+${iters} ${cf.toFixed(2)} dB (${cfs.toFixed(1)} s)\n`,
    );
    if (i > 0) {
      sums.pair += base;
      sums.warm += w;
      sums.cold += c;
      sums.coldFull += cf;
      sums.warmS += ws;
      sums.coldS += cs;
      sums.coldFullS += cfs;
    }
  }
  const n = Math.max(1, frames.length - 1);
  process.stdout.write(`hcd.video_gain_warm_db=${((sums.warm - sums.pair) / n).toFixed(3)}\n`);
  process.stdout.write(`hcd.video_gain_cold_short_db=${((sums.cold - sums.pair) / n).toFixed(3)}\n`);
  process.stdout.write(`hcd.video_gain_cold_full_db=${((sums.coldFull - sums.pair) / n).toFixed(3)}\n`);
  process.stdout.write(`hcd.video_seconds_warm=${(sums.warmS / n).toFixed(2)}\n`);
  process.stdout.write(`hcd.video_seconds_cold_full=${(sums.coldFullS / n).toFixed(2)}\n`);
  await Promise.all([warm.close(), cold.close(), coldFull.close(), up.close(), plain.close()]);
}

async function main(): Promise<void> {
  if (process.argv.includes('--video')) return video();
  const file = process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : undefined;
  const model = arg('model', 'bicubic-x2');
  const iters = Number(arg('iters', '15'));
  const reps = Math.max(1, Number(arg('reps', '3')));
  const pair = await resolvePair(model);
  const img = fitToScale(file ? await readImage(file) : generated(512, 512), pair.manifest.scale, 16, file ?? 'generated');
  const x = imageToPlanar(img);
  const cores = cpus().length;
  process.stdout.write(`${file ?? 'generated'} ${img.width}x${img.height}, ${model}, ${iters}+${iters} iterations, ${cores} cores, ${reps} runs per setting\n`);
  const median = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)];
  const results: Record<string, number> = {};
  for (const lanes of [1, 2]) {
    const hcd = await Hcd.create(pair, { iters: [iters, iters], lanes, threads: Math.max(1, Math.floor(cores / lanes)) });
    await hcd.run(x, { iters: [1, 1] }); // warm-up: session planning for these tile sizes
    const secs: number[] = [];
    const pcts: number[] = [];
    for (let rep = 0; rep < reps; rep++) {
      const r = await hcd.run(x);
      const model = r.hr.modelMs + r.lrStage.modelMs;
      const js = r.hr.jsMs + r.lrStage.jsMs;
      const pct = (100 * js) / (js + model);
      secs.push(r.seconds);
      pcts.push(pct);
      process.stdout.write(
        `lanes ${lanes} x ${Math.floor(cores / lanes)} threads, run ${rep + 1}: ${r.seconds.toFixed(2)} s; summed over lanes: HR model ${r.hr.modelMs.toFixed(0)} ms, JS ${r.hr.jsMs.toFixed(0)} ms; LR model ${r.lrStage.modelMs.toFixed(0)} ms, JS ${r.lrStage.jsMs.toFixed(0)} ms (JS ${pct.toFixed(1)}%)\n`,
      );
    }
    await hcd.close();
    results[`lanes${lanes}`] = median(secs);
    results[`js_pct_lanes${lanes}`] = median(pcts);
    results[`js_pct_first_lanes${lanes}`] = pcts[0];
  }
  process.stdout.write(`hcd.seconds_1lane=${results.lanes1.toFixed(2)}\n`);
  process.stdout.write(`hcd.seconds_2lanes=${results.lanes2.toFixed(2)}\n`);
  process.stdout.write(`hcd.parallel_lanes_speedup=${(results.lanes1 / results.lanes2).toFixed(2)}\n`);
  process.stdout.write(`hcd.js_share_first_run_pct=${results.js_pct_first_lanes1.toFixed(1)}\n`);
  process.stdout.write(`hcd.js_share_2lanes_pct=${results.js_pct_lanes2.toFixed(1)}\n`);
  process.stdout.write(`hcd.js_share_pct=${results.js_pct_lanes1.toFixed(1)}\n`);
}

await main();
