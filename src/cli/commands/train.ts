import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { HcdError } from '../../shared/errors.js';
import { loadCheckpoint, saveCheckpoint } from '../../train/checkpoint.js';
import { loadImages, splitImages, validationCrops } from '../../train/data.js';
import { DEFAULT_MAX_PIXELS } from '../../encoder/media/png.js';
import { exportPair } from '../../train/export.js';
import { defaultArch } from '../../train/nets.js';
import { paramCount } from '../../train/params.js';
import type { TrainState, ValRecord } from '../../train/checkpoint.js';
import type { ChromaMode } from '../../train/graph.js';
import { MIX_420_PROB, DEFAULT_CRF, defaultConfig, mixSettings, initFrom, valCrf, initialState, lineage, train, type StepInfo, type TrainConfig } from '../../train/trainer.js';
import { isDir, savePair } from '../../encoder/pairs/folder.js';
import { loadInitSource } from '../../train/init.js';

interface TrainCliOptions {
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

function int(v: string | undefined, name: string, min: number, fallback: number): number {
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

function configFrom(o: TrainCliOptions): TrainConfig {
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

const STILL_RECIPE =
  'hcd train --still-stage: L1(U_still(Q(D(x))), x) + lambda*L2(D(x), bicubic_down(x)) on lossless RGB; only D\'s hiding branch ' +
  '(Cb/Cr patterns that alternate across horizontal pixel pairs, which 4:2:0 averages away) and the still upscaler train; D\'s streamed image and U are the init\'s';

const note = (s: string) => process.stderr.write(`${s}\n`);
const json = (v: object) => process.stdout.write(`${JSON.stringify(v)}\n`);
const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');

async function runTraining(o: TrainCliOptions, cfg: TrainConfig, state: TrainState, ckpt: string, threads: number | undefined, stopAfter: number | undefined): Promise<void> {
    await mkdir(dirname(ckpt), { recursive: true });
    const imgs = await loadImages(o.data.map((d) => resolve(d)), cfg.crop, int(o.maxPixels, 'max-pixels', 1, DEFAULT_MAX_PIXELS));
    const { train: trainSet, val } = splitImages(imgs, 10);
    // 128 px, or less where a held-out image is smaller (a crop past the edge would read garbage)
    const unit = 8 * cfg.scale;
    const floorTo = (n: number) => n - (n % unit);
    const valCrop = Math.min(floorTo(128), ...val.map((v) => floorTo(Math.min(v.width, v.height))));
    if (valCrop < unit) throw new HcdError(`held-out images must be at least ${unit}x${unit} pixels at scale ${cfg.scale}`);
    const valCrops = validationCrops(val, valCrop, 4);
    const info = {
      event: 'start',
      train_images: trainSet.length,
      val_images: val.length,
      val_crops: valCrops.length,
      params_down: paramCount(state.params, 'down.') + paramCount(state.params, 'hide.'),
      params_up: paramCount(state.params, 'up.'),
      ...(cfg.arch.stillHead ? { params_still: paramCount(state.params, 'still.') } : {}),
      from_step: state.step,
      steps: cfg.steps,
      checkpoint: ckpt,
    };
    if (o.json) json(info);
    else note(`training x${cfg.scale}: ${trainSet.length} images (+${val.length} held out), D ${info.params_down} params, U ${info.params_up} params${info.params_still ? `, still U ${info.params_still} params` : ''}${cfg.stillStage ? ' (still stage: only the hiding branch and still U train)' : ''}, from step ${state.step} of ${cfg.steps}`);
    const tty = !o.json && process.stderr.isTTY === true;
    const bar = tty
      ? new cliProgress.SingleBar(
          { stream: process.stderr, format: `train [{bar}] {value}/{total} | loss {loss} | PSNR {psnr} dB | val${cfg.codec === 'x264' ? ` (x264 CRF ${valCrf(cfg)})` : cfg.chroma !== '444' ? ' (4:2:0)' : ''} {val} dB | LR {lrp} dB | ETA {eta_formatted}`, hideCursor: true },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
    bar?.start(cfg.steps, state.step, { loss: '-', psnr: '-', val: '-', lrp: '-' });
    let lastVal: ValRecord = { step: 0, psnr: NaN, lrPsnr: NaN };
    let lastJson = 0;
    const startStep = state.step;
    const t0 = Date.now();
    const onStep = (s: StepInfo) => {
      const eta = ((Date.now() - t0) / 1000 / (s.step - startStep)) * (s.of - s.step);
      if (bar) bar.update(s.step, { loss: fmt(s.loss, 4), psnr: fmt(s.psnr), val: fmt(lastVal.psnrX264 ?? lastVal.psnr420 ?? lastVal.psnr), lrp: fmt(lastVal.lrPsnr) });
      else if (o.json && (Date.now() - lastJson > 1000 || s.step === s.of)) {
        lastJson = Date.now();
        json({ event: 'step', step: s.step, of: s.of, loss: s.loss, psnr: s.psnr, lr_guide: s.lrGuide, ...(s.rate !== undefined ? { rate: s.rate } : {}), lr: s.lr, ms_per_step: Math.round(s.msPerStep), eta_s: Math.round(eta) });
      }
    };
    const onValidate = (v: ValRecord) => {
      lastVal = v;
      if (o.json) json({ event: 'val', ...v });
      else if (!bar)
        note(
          `step ${v.step}: validation PSNR ${fmt(v.psnr)} dB${v.psnr420 !== undefined ? ` (through 4:2:0 ${fmt(v.psnr420)} dB)` : ''}` +
            `${v.psnrX264 !== undefined ? ` (through x264 CRF ${v.x264Crf} ${fmt(v.psnrX264)} dB)` : ''}, LR vs bicubic ${fmt(v.lrPsnr)} dB`,
        );
    };
    try {
      await train(cfg, { train: trainSet, valCrops, valCrop }, state, { checkpoint: ckpt, threads, hooks: { onStep, onValidate, stopAfter } });
      // a planned stop keeps its exact step (a kill keeps the last periodic checkpoint instead)
      if (stopAfter !== undefined && state.step < cfg.steps) await saveCheckpoint(ckpt, state, cfg);
    } finally {
      bar?.stop();
    }
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a codec-robust rescaling pair (learned D and tiny U) with the built-in ONNX gradient engine')
    .requiredOption('--scale <s>', 'scale factor: 2 or 4')
    .requiredOption('--data <dirs...>', 'training image folders (searched recursively); every 10th image is held out for validation')
    .requiredOption('-o, --output <dir>', 'pair folder to write at the end, e.g. models/hcd-x2')
    .option('--steps <n>', 'optimizer steps (default 2000)')
    .option('--batch <n>', 'crops per step (default 16)')
    .option('--crop <p>', 'HR crop side, a multiple of 8*scale (default 64)')
    .option('--seed <k>', 'random seed: weights, crops, flips, codec qualities (default 1)')
    .option('--lambda <w>', 'weight of the LR guidance loss (default 8)')
    .option('--guide <kind>', 'LR guidance penalty: l2 (default) or l1')
    .option('--lr <rate>', 'peak Adam learning rate (default 0.001, cosine decay)')
    .option('--val-every <k>', 'validation PSNR every k steps, 0 = never (default 100)')
    .option('--checkpoint-every <k>', 'checkpoint every k steps (default 100)')
    .option('--checkpoint <file>', 'checkpoint file (default .cache/train/<output name>/checkpoint.json)')
    .option('--up-channels <n>', 'upscaler width (default 16 at x2, 12 at x4)')
    .option('--up-layers <n>', 'upscaler hidden 3x3 convs (default 2)')
    .option('--down-channels <n>', 'downscaler width (default 48)')
    .option('--down-layers <n>', 'downscaler hidden 3x3 convs (default 5)')
    .option('--threads <n>', 'onnxruntime intra-op threads (default: every core)')
    .option('--resume', 'continue from the checkpoint (its settings win)')
    .option('--init <checkpoint|pair>', 'start from the weights of another run (its checkpoint, or a pair folder it exported such as models/hcd-x2): every tensor whose name and shape match is copied, a new still head starts as U, the rest are new; Adam starts afresh')
    .option('--freeze-down', 'train only the upscaler; the downscaler runs forward only (about 3x cheaper steps)')
    .option('--lossless-prob <p>', 'share of crops without the codec (default 0.3)')
    .option('--stop-after <n>', 'stop once n steps are done, keeping the schedule of --steps (checkpoint at n, then export)')
    .option('--jpeg-quality <min,max>', 'codec proxy quality range, uniform per crop (default 30,95)')
    .option('--codec <kind>', 'codec in the forward pass: proxy (default; DCT quantization, differentiable) or x264 (the real encoder once per step on the tiled LR crops, straight-through gradient)')
    .option('--crf <min,max>', `with --codec x264: CRF range, one uniform integer per step (default ${DEFAULT_CRF.join(',')})`)
    .option('--rate <w>', 'weight of the bit-cost proxy (bits per luma AC coefficient of what enters the codec), so that D does not buy quality with bits (default 0)')
    .option('--chroma <420|444|mix>', 'train through the 4:2:0 round trip every streamed frame takes (default 420), on RGB as is (444), or some samples each way (mix)')
    .option('--mix-420 <p>', 'with --chroma mix: the share of samples taken through 4:2:0 (default 0.5)')
    .option('--mix-rgb-lossless', 'with --chroma mix: the RGB samples skip the codec (they stand for lossless stills)')
    .option('--still-head', 'with --chroma mix: the RGB samples train a second upscaler (shipped as the still upscaler, for lossless RGB LR) and U sees only 4:2:0 ones')
    .option('--still-stage', 'add a still head and a hiding branch to the --init pair and train only those, on lossless RGB: D hides detail where 4:2:0 removes it exactly, so the streamed frames, their bits and U stay as they were')
    .option('--hide-channels <n>', 'with --still-stage: width of the hiding branch (default 32)')
    .option('--hide-layers <n>', 'with --still-stage: hidden 3x3 convs of the hiding branch (default 1)')
    .option('--still-layers <n>', 'hidden 3x3 convs of the still head (default: as U); extra ones over an --init head start as the identity')
    .option('--saturate <p>', 'share of training crops whose colour is boosted 1-3x (strongly saturated texture is rare in photos; default 0)')
    .option('--export-only', 'write the pair from the checkpoint as it is, without training')
    .option('--max-pixels <n>', `refuse training images with more pixels than this, before decoding them (default ${DEFAULT_MAX_PIXELS})`)
    .option('--json', 'JSON lines on stdout instead of a progress bar')
    .action(async (o: TrainCliOptions) => {
      const out = resolve(o.output);
      const ckpt = resolve(o.checkpoint ?? join('.cache', 'train', basename(out), 'checkpoint.json'));
      const threads = o.threads === undefined ? undefined : int(o.threads, 'threads', 1, 1);
      const stopAfter = o.stopAfter === undefined ? undefined : int(o.stopAfter, 'stop-after', 1, 1);
      let cfg = configFrom(o);
      let state;
      // a continued or exported run keeps its own starting point; --init would be silently ignored
      if (o.init && (o.resume || o.exportOnly)) throw new HcdError(`--init starts a new run and cannot be combined with ${o.resume ? '--resume' : '--export-only'}`);
      if (o.resume || o.exportOnly) {
        if (!existsSync(ckpt)) throw new HcdError(`${o.resume ? '--resume' : '--export-only'}: no checkpoint at ${ckpt}`);
        const loaded = await loadCheckpoint(ckpt);
        cfg = loaded.config as TrainConfig;
        state = loaded.state;
      } else {
        if (existsSync(ckpt)) throw new HcdError(`checkpoint ${ckpt} exists: pass --resume to continue it, or delete it to start over`);
        state = initialState(cfg);
        if (o.init) {
          const from = resolve(o.init);
          if (!existsSync(from)) throw new HcdError(`--init: no checkpoint or pair folder at ${from}`);
          const src = await loadInitSource(from, await isDir(from));
          const copied = initFrom(state, src);
          if (copied.length === 0) throw new HcdError(`--init: no tensor of ${from} fits this run's networks (scale or architecture differ)`);
          cfg.init = { checkpoint: relative(process.cwd(), from), step: src.step, ...(src.config ? { config: src.config } : {}), ...(src.lineage ? { lineage: src.lineage } : {}) };
          note(`--init: ${copied.length} of ${state.params.size} tensors from ${from} (step ${src.step})`);
        }
      }
      if (!o.exportOnly) await runTraining(o, cfg, state, ckpt, threads, stopAfter);
      const pair = exportPair(state.params, cfg.arch, basename(out), {
        recipe: cfg.stillStage ? STILL_RECIPE : `hcd train: L1(U(C(Q(D(x)))), x) + lambda*${(cfg.guide ?? 'l1').toUpperCase()}(D(x), bicubic_down(x)); Q = 8-bit rounding (straight-through), ${cfg.chroma === '420' ? 'then the BT.709 4:2:0 chroma round trip, ' : cfg.chroma === 'mix' ? `then the BT.709 4:2:0 chroma round trip for ${Math.round(100 * (cfg.mix420 ?? MIX_420_PROB))} % of the samples, ` : ''}${cfg.rate ? `+ ${cfg.rate}*R(LR) (bit-cost proxy), ` : ''}C = ${cfg.codec === 'x264' ? `real x264 intra at a random CRF ${(cfg.crf ?? DEFAULT_CRF).join('-')} (straight-through)` : 'DCT-quantization JPEG proxy at random quality'}`,
        guide: cfg.guide ?? 'l1',
        learned: true,
        trainer: 'src/train (onnxruntime-node + src/encoder/graph/autodiff)',
        data: o.data.map((d) => basename(resolve(d))),
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
      await savePair(pair, out);
      const summary = { event: 'done', output: out, steps: state.step, validation: state.history.at(-1) ?? null, params_down: pair.manifest.downscaler.params, params_up: pair.manifest.upscaler.params };
      if (o.json) json(summary);
      else note(`wrote ${out} (validation ${fmt(summary.validation?.psnr ?? NaN)} dB, LR ${fmt(summary.validation?.lrPsnr ?? NaN)} dB)`);
    });
}
