/**
 * `hcd train` as library calls: where a run starts (new, --resume, --init), the data split, the
 * training itself, and the pair folder it exports. The command line only renders progress.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { HcdError } from '../shared/errors.js';
import { checkOutputFolder, makeFolder } from '../encoder/media/files.js';
import { isDir, savePair } from '../encoder/pairs/folder.js';
import type { RescalingPair } from '../encoder/pairs/types.js';
import { loadCheckpoint, saveCheckpoint, type TrainState, type ValRecord } from './checkpoint.js';
import { loadImages, splitImages, validationCrops } from './data.js';
import { exportPair } from './export.js';
import { loadInitSource } from './init.js';
import { int, trainConfigFrom, type TrainFlags } from './options.js';
import { paramCount } from './params.js';
import { DEFAULT_CRF, MIX_420_PROB, initFrom, initialState, lineage, mixSettings, train, type StepInfo, type TrainConfig } from './trainer.js';

export type { TrainFlags };

export interface TrainHooks {
  note?(line: string): void;
  onStart?(info: StartInfo, cfg: TrainConfig): void;
  onStep?(s: StepInfo): void;
  onValidate?(v: ValRecord): void;
}

export interface StartInfo {
  event: 'start';
  train_images: number;
  val_images: number;
  val_crops: number;
  params_down: number;
  params_up: number;
  params_still?: number;
  from_step: number;
  steps: number;
  checkpoint: string;
}

export interface TrainDone {
  event: 'done';
  output: string;
  steps: number;
  validation: ValRecord | null;
  params_down: number;
  params_up: number;
}

interface Run {
  cfg: TrainConfig;
  state: TrainState;
}

/** A new run from the flags, or the checkpoint's own run for --resume and --export-only. */
async function startRun(o: TrainFlags, ckpt: string, note: (s: string) => void): Promise<Run> {
  const cfg = trainConfigFrom(o);
  // a continued or exported run keeps its own starting point; --init would be silently ignored
  if (o.init && (o.resume || o.exportOnly)) throw new HcdError(`--init starts a new run and cannot be combined with ${o.resume ? '--resume' : '--export-only'}`);
  if (o.resume || o.exportOnly) {
    if (!existsSync(ckpt)) throw new HcdError(`${o.resume ? '--resume' : '--export-only'}: no checkpoint at ${ckpt}`);
    const loaded = await loadCheckpoint(ckpt);
    return { cfg: loaded.config as TrainConfig, state: loaded.state };
  }
  if (existsSync(ckpt)) throw new HcdError(`checkpoint ${ckpt} exists: pass --resume to continue it, or delete it to start over`);
  const state = initialState(cfg);
  if (o.init) {
    const from = resolve(o.init);
    if (!existsSync(from)) throw new HcdError(`--init: no checkpoint or pair folder at ${from}`);
    const src = await loadInitSource(from, await isDir(from));
    const copied = initFrom(state, src);
    if (copied.length === 0) throw new HcdError(`--init: no tensor of ${from} fits this run's networks (scale or architecture differ)`);
    cfg.init = { checkpoint: relative(process.cwd(), from), step: src.step, ...(src.config ? { config: src.config } : {}), ...(src.lineage ? { lineage: src.lineage } : {}) };
    note(`--init: ${copied.length} of ${state.params.size} tensors from ${from} (step ${src.step})`);
  }
  return { cfg, state };
}

/** Every 10th image held out; validation crops of 128 px, or less where a held-out image is smaller. */
export async function prepareData(dirs: string[], cfg: TrainConfig, maxPixels?: number) {
  const imgs = await loadImages(dirs.map((d) => resolve(d)), cfg.crop, maxPixels);
  const { train: trainSet, val } = splitImages(imgs, 10);
  // a crop past the edge of a held-out image would read garbage
  const unit = 8 * cfg.scale;
  const floorTo = (n: number) => n - (n % unit);
  const valCrop = Math.min(floorTo(128), ...val.map((v) => floorTo(Math.min(v.width, v.height))));
  if (valCrop < unit) throw new HcdError(`held-out images must be at least ${unit}x${unit} pixels at scale ${cfg.scale}`);
  return { train: trainSet, val, valCrops: validationCrops(val, valCrop, 4), valCrop };
}

interface RunLimits {
  threads?: number;
  stopAfter?: number;
  maxPixels?: number;
}

async function runTraining(o: TrainFlags, { cfg, state }: Run, ckpt: string, { threads, stopAfter, maxPixels }: RunLimits, hooks: TrainHooks): Promise<void> {
  makeFolder(dirname(ckpt), 'checkpoint folder');
  const data = await prepareData(o.data, cfg, maxPixels);
  hooks.onStart?.({
    event: 'start',
    train_images: data.train.length,
    val_images: data.val.length,
    val_crops: data.valCrops.length,
    params_down: paramCount(state.params, 'down.') + paramCount(state.params, 'hide.'),
    params_up: paramCount(state.params, 'up.'),
    ...(cfg.arch.stillHead ? { params_still: paramCount(state.params, 'still.') } : {}),
    from_step: state.step,
    steps: cfg.steps,
    checkpoint: ckpt,
  }, cfg);
  await train(cfg, { train: data.train, valCrops: data.valCrops, valCrop: data.valCrop }, state, { checkpoint: ckpt, threads, hooks: { onStep: hooks.onStep, onValidate: hooks.onValidate, stopAfter } });
  // a planned stop keeps its exact step (a kill keeps the last periodic checkpoint instead)
  if (stopAfter !== undefined && state.step < cfg.steps) await saveCheckpoint(ckpt, state, cfg);
}

const STILL_RECIPE =
  'hcd train --still-stage: L1(U_still(Q(D(x))), x) + lambda*L2(D(x), bicubic_down(x)) on lossless RGB; only D\'s hiding branch ' +
  '(Cb/Cr patterns that alternate across horizontal pixel pairs, which 4:2:0 averages away) and the still upscaler train; D\'s streamed image and U are the init\'s';

function recipeOf(cfg: TrainConfig): string {
  if (cfg.stillStage) return STILL_RECIPE;
  const chroma = cfg.chroma === '420' ? 'then the BT.709 4:2:0 chroma round trip, ' : cfg.chroma === 'mix' ? `then the BT.709 4:2:0 chroma round trip for ${Math.round(100 * (cfg.mix420 ?? MIX_420_PROB))} % of the samples, ` : '';
  const codec = cfg.codec === 'x264' ? `real x264 intra at a random CRF ${(cfg.crf ?? DEFAULT_CRF).join('-')} (straight-through)` : 'DCT-quantization JPEG proxy at random quality';
  return `hcd train: L1(U(C(Q(D(x)))), x) + lambda*${(cfg.guide ?? 'l1').toUpperCase()}(D(x), bicubic_down(x)); Q = 8-bit rounding (straight-through), ${chroma}${cfg.rate ? `+ ${cfg.rate}*R(LR) (bit-cost proxy), ` : ''}C = ${codec}`;
}

function pairOf({ cfg, state }: Run, out: string, data: string[]): RescalingPair {
  return exportPair(state.params, cfg.arch, basename(out), {
    recipe: recipeOf(cfg),
    guide: cfg.guide ?? 'l1',
    learned: true,
    trainer: 'src/train (onnxruntime-node + src/encoder/graph/autodiff)',
    data: data.map((d) => basename(resolve(d))),
    seed: cfg.seed,
    steps: state.step,
    scheduledSteps: cfg.steps,
    batch: cfg.batch,
    crop: cfg.crop,
    lambda: cfg.lambda,
    codec: cfg.codec === 'x264' ? { losslessProb: cfg.losslessProb, x264Crf: cfg.crf ?? DEFAULT_CRF } : { losslessProb: cfg.losslessProb, jpegQuality: [cfg.qualityMin, cfg.qualityMax] },
    adam: cfg.adam,
    ...(cfg.freezeDown ? { freezeDown: true } : {}),
    ...(cfg.rate ? { rate: cfg.rate } : {}),
    chroma: cfg.chroma ?? '444',
    ...mixSettings(cfg),
    // every stage that led here, this one last, so a later --init from the pair folder keeps the history
    lineage: lineage(cfg, state.step),
    validation: state.history.at(-1) ?? null,
  });
}

/** The checkpoint a run keeps by default: .cache/train/<output name>/checkpoint.json. */
export const defaultCheckpoint = (output: string): string => resolve(join('.cache', 'train', basename(resolve(output)), 'checkpoint.json'));

/** The whole `hcd train`: start or continue the run, train unless --export-only, write the pair folder. */
export async function trainJob(o: TrainFlags, hooks: TrainHooks = {}): Promise<TrainDone> {
  const out = resolve(o.output);
  const ckpt = resolve(o.checkpoint ?? defaultCheckpoint(out));
  // the checkpoint is written during the training and the pair after it: refuse a bad place before either
  checkOutputFolder(o.output);
  checkOutputFolder(dirname(ckpt), 'checkpoint folder');
  const limits: RunLimits = {
    threads: o.threads === undefined ? undefined : int(o.threads, 'threads', 1, 1),
    stopAfter: o.stopAfter === undefined ? undefined : int(o.stopAfter, 'stop-after', 1, 1),
    maxPixels: o.maxPixels === undefined ? undefined : int(o.maxPixels, 'max-pixels', 1, 1),
  };
  const run = await startRun(o, ckpt, hooks.note ?? (() => undefined));
  if (!o.exportOnly) await runTraining(o, run, ckpt, limits, hooks);
  const pair = pairOf(run, out, o.data);
  await savePair(pair, out);
  return { event: 'done', output: out, steps: run.state.step, validation: run.state.history.at(-1) ?? null, params_down: pair.manifest.downscaler.params, params_up: pair.manifest.upscaler.params };
}
