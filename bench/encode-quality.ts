/**
 * Quality of an `hcd encode` output as the viewer gets it: every LR rendition decoded from its
 * HLS playlist, upscaled with OUTDIR/upscaler (the model the player runs), Y-PSNR (BT.601,
 * border cropped by the scale) against the source frames, next to the rendition's measured
 * AVERAGE-BANDWIDTH, and a flicker measure: the mean absolute frame-to-frame change of the
 * upscaled Y minus that of the source's Y (8-bit levels; 0 = no more temporal change than the
 * source has). Compare several OUTDIRs of the same input at the same ladder.
 *
 *   node --import tsx bench/encode-quality.ts INPUT OUTDIR [OUTDIR...]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFrames } from '../src/encoder/media/decode.js';
import { fitToScale, probeSource } from '../src/encoder/media/probe.js';
import { createSession, ort } from '../src/encoder/graph/session.js';
import { meanAbsDiff } from '../src/encoder/job/flicker.js';
import { imageToTensor, tensorToImage } from '../src/shared/image.js';
import { psnrY, rgbToY601 } from '../src/shared/metrics.js';
import { parseManifest, UpscalerManifest } from '../src/shared/manifest.js';

async function main(): Promise<void> {
  const [input, ...outs] = process.argv.slice(2);
  if (!input || outs.length === 0) {
    // run-all.ts calls every bench without arguments: this one measures encodes you made
    process.stdout.write('encode-quality: nothing to measure (usage: bench/encode-quality.ts INPUT OUTDIR [OUTDIR...])\n');
    return;
  }
  const src = await probeSource(input);
  for (const out of outs) {
    const job = JSON.parse(readFileSync(join(out, 'job.json'), 'utf8')) as { options: { seconds: number | null; hcdIters: number[] | null; codecAware: boolean; renditions: { name: string; kind: string }[] } };
    const mPath = join(out, 'upscaler', 'manifest.json');
    const m = parseManifest(UpscalerManifest, JSON.parse(readFileSync(mPath, 'utf8')), mPath);
    if (m.range !== '0-1') throw new Error(`${mPath}: this bench feeds 0-1 tensors, the model wants ${m.range}`);
    const s = m.scale;
    const geo = fitToScale(src.width, src.height, s);
    const hr: Uint8Array[] = [];
    for await (const f of readFrames(input, { width: geo.width, height: geo.height, filter: geo.crop, rate: `${src.fpsNum}/${src.fpsDen}`, seconds: job.options.seconds ?? undefined, matrix: src.matrix, range: src.range })) hr.push(f);
    const session = await createSession(readFileSync(join(out, 'upscaler', m.model)), {});
    const master = readFileSync(join(out, 'master.m3u8'), 'utf8');
    const w = geo.width / s;
    const h = geo.height / s;
    const rows: string[] = [];
    let srcChange = 0;
    for (let k = 1; k < hr.length; k++) srcChange += meanAbsDiff(rgbToY601(hr[k], geo.width, geo.height), rgbToY601(hr[k - 1], geo.width, geo.height));
    srcChange /= Math.max(1, hr.length - 1);
    for (const r of job.options.renditions.filter((x) => x.kind === 'lr')) {
      const bw = Number(new RegExp(`AVERAGE-BANDWIDTH=(\\d+)[^\\n]*\\n${r.name}/index.m3u8`).exec(master)?.[1] ?? NaN);
      let sum = 0;
      let k = 0;
      let change = 0;
      let prev: Float64Array | undefined;
      for await (const f of readFrames(join(out, r.name, 'index.m3u8'), { width: w, height: h, passthrough: true })) {
        const y = (await session.run({ [m.input]: new ort.Tensor('float32', imageToTensor({ width: w, height: h, data: f }), [1, 3, h, w]) }))[m.output];
        const img = tensorToImage(y.data as Float32Array, geo.width, geo.height).data;
        sum += psnrY(img, hr[k], geo.width, geo.height, { crop: s });
        const yy = rgbToY601(img, geo.width, geo.height);
        if (prev) change += meanAbsDiff(yy, prev);
        prev = yy;
        k++;
      }
      if (k !== hr.length) throw new Error(`${out}/${r.name}: ${k} frames decoded, the source has ${hr.length}`);
      const flicker = change / Math.max(1, k - 1) - srcChange;
      rows.push(`${r.name} ${(bw / 1000).toFixed(1)} kb/s ${(sum / k).toFixed(3)} dB flicker ${flicker >= 0 ? '+' : ''}${flicker.toFixed(3)}`);
      process.stdout.write(`encode_quality.${out.split('/').pop()}.${r.name}.flicker=${flicker.toFixed(4)}\n`);
      process.stdout.write(`encode_quality.${out.split('/').pop()}.${r.name}.psnr_y=${(sum / k).toFixed(3)}\nencode_quality.${out.split('/').pop()}.${r.name}.avg_bandwidth=${bw}\n`);
    }
    await session.release();
    process.stdout.write(`${out} (hcd ${job.options.hcdIters?.join(',') ?? 'none'}${job.options.codecAware ? ', codec-aware' : ''}): ${rows.join('; ')}\n`);
  }
}

await main();
