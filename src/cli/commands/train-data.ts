import type { Command } from 'commander';
import { DEFAULTS } from '../../config.js';
import { loadPair, defaultModelId } from '../../encoder/pairs/load.js';
import { HcdError } from '../../shared/errors.js';
import { loadImages } from '../../train/data.js';
import { MOVE_LIMITS } from '../../train/moves.js';
import { buildSequences, MANIFEST } from '../../train/sequences.js';
import { parseCrfs, positive } from '../flags.js';
import { createProgress } from '../progress.js';

interface TrainDataFlags {
  output: string;
  model?: string;
  data?: string;
  count?: string;
  frames?: string;
  size?: string;
  crf?: string;
  seed?: string;
  json?: boolean;
}

function parseSize(v: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/.exec(v);
  if (!m) throw new HcdError(`--size wants WIDTHxHEIGHT, got '${v}'`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

export function registerTrainData(program: Command): void {
  const d = DEFAULTS.trainData;
  program
    .command('train-data')
    .description("training sequences from real inter-coded video: camera moves over training stills, LR frames by the pair's frozen D, coded by x264 with the encoder's settings at each CRF and decoded; cached and resumable (docs/models.md)")
    .requiredOption('-o, --output <dir>', 'cache folder: sequences already there are kept')
    .option('--model <id|dir>', "the pair whose D makes the LR frames (default: the encoder's)")
    .option('--data <dirs>', `comma-separated folders of training stills (default ${d.data})`)
    .option('--count <n>', `sequences (default ${d.count})`)
    .option('--frames <n>', `frames per sequence, coded as one GOP (default ${d.frames})`)
    .option('--size <WxH>', `HR frame size (default ${d.width}x${d.height})`)
    .option('--crf <list>', `x264 CRFs (default ${d.crfs.join(',')})`)
    .option('--seed <k>', `random seed of the stills and moves (default ${d.seed})`)
    .option('--json', 'JSON lines on stdout instead of a progress bar')
    .action(async (o: TrainDataFlags) => {
      const frames = o.frames ? positive('--frames', o.frames, true) : d.frames;
      const count = o.count ? positive('--count', o.count, true) : d.count;
      const size = o.size ? parseSize(o.size) : { width: d.width, height: d.height };
      const crfs = o.crf ? parseCrfs(o.crf) : [...d.crfs];
      const seed = o.seed ? positive('--seed', o.seed, true) : d.seed;
      const pair = await loadPair(o.model ?? defaultModelId());
      // room for the move: the window travels up to MOVE_LIMITS.pan px a frame from the centre
      const minSide = Math.max(size.width, size.height) + MOVE_LIMITS.pan * frames;
      const images = await loadImages((o.data ?? d.data).split(','), minSide);
      const p = createProgress({ json: !!o.json, label: 'train-data' });
      const t0 = Date.now();
      try {
        const set = await buildSequences(o.output, pair, images, count, { pair: pair.manifest.id, size, frames, fps: d.fps, crfs, preset: DEFAULTS.encode.preset, seed }, (done, of) => {
          const s = (Date.now() - t0) / 1000;
          p.frame({ frame: done * frames, of: of * frames, fps: (done * frames) / s, eta_s: (s / done) * (of - done) });
        });
        p.stop();
        p.summary({ output: o.output, manifest: MANIFEST, sequences: set.sequences.length, frames, crfs, lr: set.lrSize });
        if (!o.json) p.note(`wrote ${set.sequences.length} sequences of ${frames} frames (${size.width}x${size.height}, LR ${set.lrSize.width}x${set.lrSize.height}, CRF ${crfs.join(', ')}) to ${o.output}`);
      } finally {
        p.stop();
      }
    });
}
