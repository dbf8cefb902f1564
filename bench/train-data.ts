/**
 * What `hcd train-data` makes on the real training stills: per CRF, the decoded LR frames'
 * PSNR against D's LR frames (what the codec takes away, which a recurrent upscaler is to learn
 * to undo) and their rate; and the time a sequence takes to build.
 *
 *   node --import tsx bench/train-data.ts [COUNT]     (default 8 sequences, from ../shared/data/train)
 *
 * Without the data it says so and exits 0.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULTS } from '../src/config.js';
import { defaultModelId, loadPair } from '../src/encoder/pairs/load.js';
import { psnr } from '../src/shared/metrics.js';
import { loadImages } from '../src/train/data.js';
import { MOVE_LIMITS } from '../src/train/moves.js';
import { buildSequences } from '../src/train/sequences.js';

const here = dirname(fileURLToPath(import.meta.url));
const data = resolve(here, '..', '..', 'shared', 'data', 'train');
if (!existsSync(data)) {
  console.log(`no ${data}: the train-data benchmark needs ../shared/data`);
  process.exit(0);
}
const d = DEFAULTS.trainData;
const count = Number(process.argv[2] ?? 8);
const out = mkdtempSync(join(tmpdir(), 'hcd-train-data-'));
try {
  const pair = await loadPair(defaultModelId());
  const images = await loadImages([data], Math.max(d.width, d.height) + MOVE_LIMITS.pan * d.frames);
  const t0 = performance.now();
  const set = await buildSequences(out, pair, images, count, { pair: pair.manifest.id, size: { width: d.width, height: d.height }, frames: d.frames, fps: d.fps, crfs: [...d.crfs], preset: DEFAULTS.encode.preset, seed: d.seed });
  const seconds = (performance.now() - t0) / 1000;
  const { width, height } = set.lrSize;
  console.log(`${count} sequences of ${d.frames} frames, ${d.width}x${d.height} (LR ${width}x${height}), ${images.length} stills: ${(seconds / count).toFixed(2)} s a sequence`);
  console.log('CRF | decoded LR vs D LR, PSNR (dB, mean over sequences) | kbit/s at 24 fps');
  for (const crf of d.crfs) {
    const q = set.sequences.map((s) => psnr(new Uint8Array(readFileSync(join(out, s.id, s.decoded[crf]))), new Uint8Array(readFileSync(join(out, s.id, s.lr))), { width, height: height * d.frames, channels: 3 }));
    const kbps = set.sequences.map((s) => s.bits[crf] / (d.frames / d.fps) / 1000);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(`${crf} | ${mean(q).toFixed(2)} | ${mean(kbps).toFixed(1)}`);
  }
  console.log(`train_data_s_per_sequence=${(seconds / count).toFixed(2)}`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
