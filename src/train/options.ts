/**
 * `hcd train`'s options: the flags as given (strings) to one checked TrainConfig. Every refusal
 * is one line naming the flag.
 */
import { HcdError } from '../shared/errors.js';
import type { ChromaMode } from './graph.js';
import { defaultArch } from './nets.js';
import { DEFAULT_CRF, defaultConfig, type TrainConfig } from './trainer.js';

/** The flags of `hcd train`, as the command line gives them. */
export interface TrainFlags {
  scale: string;
  data: string[];
  output: string;
  steps?: string;
  batch?: string;
  crop?: string;
  seed?: string;
  lambda?: string;
  guide?: string;
  lr?: string;
  valEvery?: string;
  checkpointEvery?: string;
  checkpoint?: string;
  upChannels?: string;
  upLayers?: string;
  downChannels?: string;
  downLayers?: string;
  threads?: string;
  resume?: boolean;
  init?: string;
  freezeDown?: boolean;
  losslessProb?: string;
  jpegQuality?: string;
  chroma?: string;
  mix420?: string;
  mixRgbLossless?: boolean;
  stillHead?: boolean;
  stillStage?: boolean;
  hideChannels?: string;
  hideLayers?: string;
  stillLayers?: string;
  saturate?: string;
  codec?: string;
  crf?: string;
  rate?: string;
  stopAfter?: string;
  exportOnly?: boolean;
  maxPixels?: string;
  json?: boolean;
}

export function int(v: string | undefined, name: string, min: number, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new HcdError(`--${name} must be an integer ≥ ${min}, got '${v}'`);
  return n;
}

function num(v: string | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new HcdError(`--${name} must be a non-negative number, got '${v}'`);
  return n;
}

export function trainConfigFrom(o: TrainFlags): TrainConfig {
  const scale = int(o.scale, 'scale', 2, 2);
  if (scale !== 2 && scale !== 4) throw new HcdError(`--scale must be 2 or 4, got ${scale}`);
  const arch = defaultArch(scale);
  arch.upChannels = int(o.upChannels, 'up-channels', 4, arch.upChannels);
  arch.upHidden = int(o.upLayers, 'up-layers', 0, arch.upHidden);
  arch.downChannels = int(o.downChannels, 'down-channels', 4, arch.downChannels);
  arch.downHidden = int(o.downLayers, 'down-layers', 0, arch.downHidden);
  const base = defaultConfig(scale, arch);
  const cfg: TrainConfig = {
    ...base,
    steps: int(o.steps, 'steps', 1, base.steps),
    batch: int(o.batch, 'batch', 1, base.batch),
    crop: int(o.crop, 'crop', 8, base.crop),
    seed: int(o.seed, 'seed', 0, base.seed),
    lambda: num(o.lambda, 'lambda', base.lambda),
    guide: guideFrom(o.guide),
    valEvery: int(o.valEvery, 'val-every', 0, base.valEvery),
    checkpointEvery: int(o.checkpointEvery, 'checkpoint-every', 1, base.checkpointEvery),
    adam: { ...base.adam, lr: num(o.lr, 'lr', base.adam.lr) },
    losslessProb: num(o.losslessProb, 'lossless-prob', base.losslessProb),
    ...(o.freezeDown ? { freezeDown: true } : {}),
    chroma: chromaFrom(o.chroma),
  };
  if (o.mix420 !== undefined) {
    if (cfg.chroma !== 'mix') throw new HcdError('--mix-420 sets the share of --chroma mix');
    const p = num(o.mix420, 'mix-420', 0);
    if (p > 1) throw new HcdError(`--mix-420 must be between 0 and 1, got ${p}`);
    cfg.mix420 = p;
  }
  if (o.stillStage) {
    // the one thing a still stage changes is what a lossless RGB LR carries; all else is the init's
    for (const [flag, set] of [['--chroma', o.chroma], ['--codec', o.codec], ['--freeze-down', o.freezeDown], ['--still-head', o.stillHead], ['--lossless-prob', o.losslessProb], ['--rate', o.rate]] as const)
      if (set !== undefined) throw new HcdError(`--still-stage trains on lossless RGB stills with D and U frozen; ${flag} does not apply`);
    if (!o.init) throw new HcdError('--still-stage adds to a trained pair: give it with --init CHECKPOINT|PAIR');
    cfg.stillStage = true;
    cfg.chroma = '444';
    cfg.losslessProb = 1;
    cfg.arch.stillHead = true;
    cfg.arch.hideChannels = int(o.hideChannels, 'hide-channels', 1, 32);
    cfg.arch.hideHidden = int(o.hideLayers, 'hide-layers', 0, 1);
  } else if (o.hideChannels !== undefined || o.hideLayers !== undefined) throw new HcdError('--hide-channels and --hide-layers shape the hiding branch of --still-stage');
  if (o.stillLayers !== undefined) {
    if (!cfg.arch.stillHead && !o.stillHead) throw new HcdError('--still-layers sets the depth of the still head of --still-stage or --still-head');
    cfg.arch.stillHidden = int(o.stillLayers, 'still-layers', 0, cfg.arch.upHidden);
  }
  if (o.stillHead) {
    if (cfg.chroma !== 'mix') throw new HcdError('--still-head trains a second upscaler on the RGB samples of --chroma mix');
    cfg.arch.stillHead = true;
  }
  if (o.mixRgbLossless) {
    if (cfg.chroma !== 'mix') throw new HcdError('--mix-rgb-lossless applies to --chroma mix');
    cfg.mixRgbLossless = true;
  }
  if (o.saturate !== undefined) {
    const p = num(o.saturate, 'saturate', 0);
    if (p > 1) throw new HcdError(`--saturate must be between 0 and 1, got ${p}`);
    if (p > 0) cfg.saturate = p;
  }
  const rate = num(o.rate, 'rate', 0);
  if (rate > 0) cfg.rate = rate;
  if (o.jpegQuality !== undefined) {
    const q = o.jpegQuality.split(',').map(Number);
    if (q.length !== 2 || !q.every((v) => Number.isFinite(v) && v >= 1 && v <= 100) || q[0] > q[1])
      throw new HcdError(`--jpeg-quality must be MIN,MAX with 1 ≤ MIN ≤ MAX ≤ 100, got '${o.jpegQuality}'`);
    [cfg.qualityMin, cfg.qualityMax] = q;
  }
  if (o.codec !== undefined && o.codec !== 'proxy' && o.codec !== 'x264') throw new HcdError(`--codec must be proxy or x264, got '${o.codec}'`);
  if (o.codec === 'x264') {
    // x264 codes 4:2:0 only: an RGB sample would get the residual of a conversion it never took
    if (cfg.chroma !== '420') throw new HcdError(`--codec x264 codes 4:2:0 frames and needs --chroma 420, got '${cfg.chroma}'`);
    cfg.codec = 'x264';
    cfg.crf = o.crf === undefined ? DEFAULT_CRF : rangeFrom(o.crf, 'crf', 0, 51);
    // whole macroblocks per LR crop, so x264 codes each crop of the tiled step on its own blocks
    if (cfg.crop % (16 * scale) !== 0) throw new HcdError(`--codec x264 needs --crop to be a multiple of ${16 * scale} at scale ${scale}, got ${cfg.crop}`);
  } else if (o.crf !== undefined) throw new HcdError('--crf needs --codec x264');
  if (o.jpegQuality !== undefined && cfg.codec === 'x264') throw new HcdError('--jpeg-quality sets the proxy, which --codec x264 replaces');
  if (cfg.losslessProb > 1) throw new HcdError(`--lossless-prob must be between 0 and 1, got ${cfg.losslessProb}`);
  // the codec proxy works on 8x8 blocks of the LR crop
  if (cfg.crop % (8 * scale) !== 0) throw new HcdError(`--crop must be a multiple of ${8 * scale} at scale ${scale}, got ${cfg.crop}`);
  return cfg;
}

function rangeFrom(v: string, name: string, min: number, max: number): [number, number] {
  const r = v.split(',').map(Number);
  if (r.length !== 2 || !r.every((x) => Number.isInteger(x) && x >= min && x <= max) || r[0] > r[1])
    throw new HcdError(`--${name} must be MIN,MAX integers with ${min} ≤ MIN ≤ MAX ≤ ${max}, got '${v}'`);
  return [r[0], r[1]];
}

function chromaFrom(v: string | undefined): ChromaMode {
  if (v === undefined || v === '420') return '420';
  if (v === '444' || v === 'mix') return v;
  throw new HcdError(`--chroma must be 420, 444 or mix, got '${v}'`);
}

function guideFrom(v: string | undefined): 'l1' | 'l2' {
  if (v === undefined || v === 'l2') return 'l2';
  if (v === 'l1') return 'l1';
  throw new HcdError(`--guide must be l1 or l2, got '${v}'`);
}
