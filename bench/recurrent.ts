/**
 * A first look at time for the upscaler, on real inter-coded frames: hcd-x2's U fine-tuned on
 * `hcd train-data` sequences (x264 at CRF 30-42 on D's LR frames of camera moves over the
 * training stills), the same recipe and steps twice, without and with its previous output
 * (truncated BPTT over 3 frames), then measured on held-out sequences (other stills, other moves)
 * over all 12 frames from a reset: PSNR-Y of U's output against the HR frames, per CRF, beside
 * the U as shipped. Not a claim after the codec at equal bitrate on video: the sequences are
 * synthetic motion, and the rates are those of 64x64 LR frames.
 *
 *   node --import tsx bench/recurrent.ts [STEPS]      (default 300; needs ../shared/data/train)
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULTS } from '../src/config.js';
import { createSession, ort } from '../src/encoder/graph/session.js';
import { loadPair } from '../src/encoder/pairs/load.js';
import { psnrY } from '../src/shared/metrics.js';
import { loadImages, splitImages } from '../src/train/data.js';
import { loadInitSource } from '../src/train/init.js';
import { MOVE_LIMITS } from '../src/train/moves.js';
import { defaultArch, recurrentUp } from '../src/train/nets.js';
import type { Params } from '../src/train/params.js';
import { buildRecurrentObjective } from '../src/train/recurrent.js';
import { buildSequences } from '../src/train/sequences.js';
import { cropPlanar, trainUpOnSequences, VIDEO_TRAIN_DEFAULTS } from '../src/train/video.js';

const here = dirname(fileURLToPath(import.meta.url));
const data = resolve(here, '..', '..', 'shared', 'data', 'train');
if (!existsSync(data)) {
  console.log(`no ${data}: the recurrent benchmark needs ../shared/data`);
  process.exit(0);
}
const STEPS = Number(process.argv[2] ?? 300);
const T = 3;
const BATCH = 4;
const CROP = 32; // LR
const d = DEFAULTS.trainData;
const s = 2;
const arch = defaultArch(s);
const W = d.width / s;
const H = d.height / s;

const pair = await loadPair('hcd-x2');
const images = await loadImages([data], Math.max(d.width, d.height) + MOVE_LIMITS.pan * d.frames);
const { train, val } = splitImages(images, 8);
const cache = join(here, '..', '.cache', 'bench-recurrent');
mkdirSync(cache, { recursive: true });
const settings = { pair: pair.manifest.id, size: { width: d.width, height: d.height }, frames: d.frames, fps: d.fps, crfs: [...d.crfs], preset: DEFAULTS.encode.preset, seed: d.seed };
const trainSet = await buildSequences(join(cache, 'train'), pair, train, 48, settings);
const valSet = await buildSequences(join(cache, 'val'), pair, val, 8, { ...settings, seed: d.seed + 1 });

const frameBytes = (dir: string, id: string, file: string) => new Uint8Array(readFileSync(join(dir, id, file)));
const RECIPE = { ...VIDEO_TRAIN_DEFAULTS, steps: STEPS, batch: BATCH, crop: CROP, unroll: T, threads: 2 };
const fineTune = (init: Params, recurrent: boolean): Promise<Params> => trainUpOnSequences(init, arch, trainSet, join(cache, 'train'), { ...RECIPE, recurrent });

/** PSNR-Y per CRF over held-out sequences, all frames from a reset, and frame 0 alone. */
async function evaluate(p: Params, recurrent: boolean): Promise<Record<number, { all: number; first: number }>> {
  const sess = await createSession(buildRecurrentObjective(p, arch, d.frames, recurrent), { threads: 2 });
  const dir = join(cache, 'val');
  const out: Record<number, { all: number; first: number }> = {};
  for (const crf of d.crfs) {
    let all = 0;
    let first = 0;
    for (const seq of valSet.sequences) {
      const dec = frameBytes(dir, seq.id, seq.decoded[crf]);
      const hi = frameBytes(dir, seq.id, seq.hr);
      const feeds: Record<string, ort.Tensor> = { prev: new ort.Tensor('float32', new Float32Array(3 * d.width * d.height), [1, 3, d.height, d.width]) };
      for (let t = 0; t < d.frames; t++) {
        const lr = new Float32Array(3 * W * H);
        cropPlanar(dec, W, H, t, 0, 0, W, H, lr, 0);
        feeds[`lr${t}`] = new ort.Tensor('float32', lr, [1, 3, H, W]);
        feeds[`hr${t}`] = new ort.Tensor('float32', new Float32Array(3 * d.width * d.height), [1, 3, d.height, d.width]);
      }
      const r = await sess.run(feeds);
      for (let t = 0; t < d.frames; t++) {
        const y = r[`y${t}`].data as Float32Array;
        const packed = new Uint8Array(d.width * d.height * 3);
        const n = d.width * d.height;
        for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) packed[i * 3 + c] = Math.min(255, Math.max(0, Math.round(y[c * n + i] * 255)));
        const q = psnrY(packed, hi.subarray(t * n * 3, (t + 1) * n * 3), d.width, d.height, { crop: 4 });
        all += q / (d.frames * valSet.sequences.length);
        if (t === 0) first += q / valSet.sequences.length;
      }
    }
    out[crf] = { all, first };
  }
  return out;
}

const init = (await loadInitSource(join(here, '..', 'models', 'hcd-x2'), true)).params;
const t0 = performance.now();
const shipped = await evaluate(init, false);
const plain = await evaluate(await fineTune(init, false), false);
const rec = await evaluate(await fineTune(recurrentUp(init, s), true), true);
console.log(`${STEPS} steps each, batch ${BATCH} x ${T} frames of ${CROP}x${CROP} LR; ${trainSet.sequences.length} training and ${valSet.sequences.length} held-out sequences; ${((performance.now() - t0) / 1000).toFixed(0)} s`);
console.log('CRF | U as shipped | U fine-tuned, no time | U recurrent | recurrent - no time | recurrent, frame 0 (after a reset)');
for (const crf of d.crfs) console.log(`${crf} | ${shipped[crf].all.toFixed(3)} | ${plain[crf].all.toFixed(3)} | ${rec[crf].all.toFixed(3)} | ${(rec[crf].all - plain[crf].all).toFixed(3)} | ${rec[crf].first.toFixed(3)}`);
const mean = (o: Record<number, { all: number }>) => d.crfs.reduce((a, c) => a + o[c].all, 0) / d.crfs.length;
console.log(`recurrent_minus_plain_db=${(mean(rec) - mean(plain)).toFixed(3)}`);
