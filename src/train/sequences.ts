/**
 * Training data from real inter-coded video (`hcd train-data`). Each sequence is a synthetic
 * camera move over a training still (moves.ts); the pair's frozen D makes its LR frames, x264
 * codes them with the encoder's own settings (one GOP: an IDR frame, then P and B frames) at every
 * CRF asked for, and ffmpeg decodes them, so an upscaler trains on what the player really
 * decodes: blocking, ringing, smeared motion and 4:2:0 chroma, frame after frame.
 *
 * The set is cached in a folder, one sub-folder per sequence, each written under a temporary name
 * and renamed once complete, so a run stopped anywhere resumes where it stopped; the manifest is
 * written last. Nothing here is committed: the stills come from ../shared/data/train.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { HcdError } from '../shared/errors.js';
import type { RgbImage } from '../shared/image.js';
import { deriveSeed } from '../shared/rng.js';
import { createRescaler } from '../encoder/hcd/rescalers.js';
import { readFrames } from '../encoder/media/decode.js';
import { runFfmpeg } from '../encoder/media/ffmpeg.js';
import { writeAtomic, writeFrames } from '../encoder/media/files.js';
import { measureSize } from '../encoder/media/measure.js';
import { x264Args } from '../encoder/media/x264.js';
import type { RescalingPair } from '../encoder/pairs/load.js';
import type { TrainImage } from './data.js';
import { cameraFrames, moveFor, type CameraMove } from './moves.js';

type Size = Pick<RgbImage, 'width' | 'height'>;

export interface SequenceSettings {
  /** The pair whose D makes the LR frames (its id names the set). */
  pair: string;
  /** HR frame size; the LR size is this over the pair's scale. */
  size: Size;
  frames: number;
  fps: number;
  crfs: number[];
  preset: string;
  seed: number;
}

export interface SequenceEntry {
  id: string;
  /** The still it moves over, and how. */
  image: string;
  move: CameraMove;
  /** Raw RGB24 files in the sequence's folder: the HR frames, D's LR frames, and x264's decoded LR frames per CRF. */
  hr: string;
  lr: string;
  decoded: Record<string, string>;
  /** H.264 payload bits per CRF. */
  bits: Record<string, number>;
}

export interface SequenceSet {
  version: 1;
  settings: SequenceSettings;
  lrSize: Size;
  sequences: SequenceEntry[];
}

export const MANIFEST = 'sequences.json';
const ENTRY = 'entry.json';
const sequenceId = (index: number): string => `seq-${String(index).padStart(4, '0')}`;

/** x264 at `crf` on the LR frames in `lr` (frames of `lrSize`), decoded again; its payload bits. */
async function codeAndDecode(lr: string, lrSize: Size, s: SequenceSettings, crf: number, dir: string): Promise<{ frames: Uint8Array[]; bits: number }> {
  const mp4 = join(dir, `crf${crf}.mp4`);
  await runFfmpeg(x264Args({ ...lrSize, from: lr, fpsNum: s.fps, fpsDen: 1, rate: { crf }, gop: s.frames, preset: s.preset, place: { start: 0, fragmentIndex: 1 }, out: mp4 }));
  const frames: Uint8Array[] = [];
  for await (const f of readFrames(mp4, { ...lrSize })) frames.push(f);
  if (frames.length !== s.frames) throw new Error(`x264 at CRF ${crf} gave ${frames.length} frames of ${s.frames}`);
  const bits = (await measureSize(mp4)).payloadBytes * 8;
  rmSync(mp4, { force: true });
  return { frames, bits };
}

/** Builds one sequence into `dir` (a temporary folder the caller renames). */
async function buildOne(pair: RescalingPair, img: TrainImage, index: number, s: SequenceSettings, lrSize: Size, dir: string): Promise<SequenceEntry> {
  const id = sequenceId(index);
  const move = moveFor(s.seed, index);
  const hr = cameraFrames(img, move, s.frames, s.size);
  await writeFrames(join(dir, 'hr.rgb'), hr);
  const down = await createRescaler(pair, { threads: 1 });
  const lr: Uint8Array[] = [];
  try {
    for (const [i, data] of hr.entries()) lr.push((await down.process({ ...s.size, data }, { index: i, sceneCut: i === 0 })).data);
  } finally {
    await down.close();
  }
  await writeFrames(join(dir, 'lr.rgb'), lr);
  const entry: SequenceEntry = { id, image: img.name, move, hr: 'hr.rgb', lr: 'lr.rgb', decoded: {}, bits: {} };
  for (const crf of s.crfs) {
    const coded = await codeAndDecode(join(dir, 'lr.rgb'), lrSize, s, crf, dir);
    await writeFrames(join(dir, `crf${crf}.rgb`), coded.frames);
    entry.decoded[crf] = `crf${crf}.rgb`;
    entry.bits[crf] = coded.bits;
  }
  writeAtomic(join(dir, ENTRY), `${JSON.stringify(entry, null, 2)}\n`);
  return entry;
}

/** A set in `out` built with other settings is refused: its sequences would mix two recipes. */
function checkFolder(out: string, s: SequenceSettings): void {
  const key = join(out, 'settings.json');
  if (!existsSync(key)) {
    mkdirSync(out, { recursive: true });
    writeAtomic(key, `${JSON.stringify(s, null, 2)}\n`);
    return;
  }
  if (readFileSync(key, 'utf8') !== `${JSON.stringify(s, null, 2)}\n`) throw new HcdError(`${out} holds sequences built with other settings (${key}): give another folder`);
}

/**
 * `count` sequences over `images` (the i-th over image i mod their number), cached in `out`. Only
 * sequences whose folder is missing are built; `onSequence` reports each one done.
 */
export async function buildSequences(out: string, pair: RescalingPair, images: TrainImage[], count: number, s: SequenceSettings, onSequence?: (done: number, of: number, built: boolean) => void): Promise<SequenceSet> {
  const scale = pair.manifest.scale;
  if (s.size.width % (2 * scale) || s.size.height % (2 * scale)) throw new HcdError(`--size ${s.size.width}x${s.size.height}: each side must be a multiple of ${2 * scale} (x264 needs even LR sides)`);
  if (images.length === 0) throw new HcdError('no training stills');
  checkFolder(out, s);
  const lrSize = { width: s.size.width / scale, height: s.size.height / scale };
  const sequences: SequenceEntry[] = [];
  for (let i = 0; i < count; i++) {
    const dir = join(out, sequenceId(i));
    const done = existsSync(join(dir, ENTRY));
    if (!done) {
      const tmp = `${dir}.tmp`;
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp);
      await buildOne(pair, images[deriveSeed(s.seed, i) % images.length], i, s, lrSize, tmp);
      renameSync(tmp, dir);
    }
    sequences.push(JSON.parse(readFileSync(join(dir, ENTRY), 'utf8')) as SequenceEntry);
    onSequence?.(i + 1, count, !done);
  }
  const set: SequenceSet = { version: 1, settings: s, lrSize, sequences };
  writeAtomic(join(out, MANIFEST), `${JSON.stringify(set, null, 2)}\n`);
  return set;
}
