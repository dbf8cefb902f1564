import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { DEFAULT_MAX_PIXELS } from '../../encoder/media/png.js';
import type { ValRecord } from '../../train/checkpoint.js';
import { trainJob, type StartInfo, type TrainFlags, type TrainHooks } from '../../train/job.js';
import { DEFAULT_CRF, valCrf, type StepInfo, type TrainConfig } from '../../train/trainer.js';

const note = (s: string) => process.stderr.write(`${s}\n`);
const json = (v: object) => process.stdout.write(`${JSON.stringify(v)}\n`);
const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');

/** Progress of a run: a bar on a TTY, JSON lines with --json, validation lines otherwise. */
function progressHooks(asJson: boolean): TrainHooks & { stop(): void } {
  let bar: cliProgress.SingleBar | undefined;
  let lastVal: ValRecord = { step: 0, psnr: NaN, lrPsnr: NaN };
  let lastJson = 0;
  let t0 = 0;
  let startStep = 0;
  const onStart = (info: StartInfo, cfg: TrainConfig) => {
    t0 = Date.now();
    startStep = info.from_step;
    if (asJson) json(info);
    else note(`training x${cfg.scale}: ${info.train_images} images (+${info.val_images} held out), D ${info.params_down} params, U ${info.params_up} params${info.params_still ? `, still U ${info.params_still} params` : ''}, ${cfg.stillStage ? ' (still stage: only the hiding branch and still U train)' : ''}, from step ${info.from_step} of ${info.steps}`);
    if (asJson || process.stderr.isTTY !== true) return;
    const val = cfg.codec === 'x264' ? ` (x264 CRF ${valCrf(cfg)})` : cfg.chroma !== '444' ? ' (4:2:0)' : '';
    bar = new cliProgress.SingleBar({ stream: process.stderr, format: `train [{bar}] {value}/{total} | loss {loss} | PSNR {psnr} dB | val${val} {val} dB | LR {lrp} dB | ETA {eta_formatted}`, hideCursor: true }, cliProgress.Presets.shades_classic);
    bar.start(info.steps, info.from_step, { loss: '-', psnr: '-', val: '-', lrp: '-' });
  };
  return {
    note,
    onStart,
    onStep(s: StepInfo) {
      const eta = ((Date.now() - t0) / 1000 / (s.step - startStep)) * (s.of - s.step);
      if (bar) bar.update(s.step, { loss: fmt(s.loss, 4), psnr: fmt(s.psnr), val: fmt(lastVal.psnrX264 ?? lastVal.psnr420 ?? lastVal.psnr), lrp: fmt(lastVal.lrPsnr) });
      else if (asJson && (Date.now() - lastJson > 1000 || s.step === s.of)) {
        lastJson = Date.now();
        json({ event: 'step', step: s.step, of: s.of, loss: s.loss, psnr: s.psnr, lr_guide: s.lrGuide, ...(s.rate !== undefined ? { rate: s.rate } : {}), lr: s.lr, ms_per_step: Math.round(s.msPerStep), eta_s: Math.round(eta) });
      }
    },
    onValidate(v: ValRecord) {
      lastVal = v;
      if (asJson) json({ event: 'val', ...v });
      else if (!bar)
        note(
          `step ${v.step}: validation PSNR ${fmt(v.psnr)} dB${v.psnr420 !== undefined ? ` (through 4:2:0 ${fmt(v.psnr420)} dB)` : ''}` +
            `${v.psnrX264 !== undefined ? ` (through x264 CRF ${v.x264Crf} ${fmt(v.psnrX264)} dB)` : ''}, LR vs bicubic ${fmt(v.lrPsnr)} dB`,
        );
    },
    stop: () => bar?.stop(),
  };
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
    .action(async (o: TrainFlags) => {
      const hooks = progressHooks(!!o.json);
      let done;
      try {
        done = await trainJob(o, hooks);
      } finally {
        hooks.stop();
      }
      if (o.json) json(done);
      else note(`wrote ${done.output} (validation ${fmt(done.validation?.psnr ?? NaN)} dB, LR ${fmt(done.validation?.lrPsnr ?? NaN)} dB)`);
    });
}
