import type { Command } from 'commander';
import { HcdError } from '../../shared/errors.js';
import type { ExecutionProvider } from '../../encoder/graph/session.js';
import { DEFAULT_HCD_ITERS, encodeVideo } from '../../encoder/job/encode.js';
import { defaultModelId } from '../../encoder/pairs/load.js';
import { createProgress } from '../progress.js';
import { CODEC_LOOP_DEFAULTS, type CodecLoopOptions } from '../../encoder/hcd/codec-loop.js';

const X264_PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow', 'placebo'];

/** "150k", "1.5M", "800000" -> bits/s. */
export function parseBitrate(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(s.trim());
  if (!m) throw new HcdError(`bad bitrate '${s}': use e.g. 150k, 1.5M or 800000`);
  const v = Number(m[1]) * (m[2].toLowerCase() === 'k' ? 1e3 : m[2].toLowerCase() === 'm' ? 1e6 : 1);
  if (!(v >= 1000)) throw new HcdError(`bitrate '${s}' is too low`);
  return Math.round(v);
}

export function parseBitrates(s: string): number[] {
  return s.trim() === '' ? [] : s.split(',').map(parseBitrate);
}

/** "HR,LR" HCD iteration counts, shared by every command that runs HCD. */
export function parseIters(v: string): [number, number] {
  const parts = v.split(',').map((x) => Number(x.trim()));
  if (parts.length !== 2 || parts.some((n) => !Number.isInteger(n) || n < 0)) throw new HcdError(`--hcd-iters wants two integers >= 0 as HR,LR, got '${v}'`);
  return [parts[0], parts[1]];
}

/**
 * `--codec-loop PASSES,STEP,RADIUS[,SLOPE]`: closed-loop passes; step and radius in RMS 8-bit
 * levels; SLOPE the dB one doubling of bitrate is worth when a pass is chosen (0: ignore bits).
 */
export function parseCodecLoop(v: string): CodecLoopOptions {
  const parts = v.split(',').map((x) => Number(x.trim()));
  const [passes, step, radius, rateSlope = CODEC_LOOP_DEFAULTS.rateSlope] = parts;
  if (parts.length < 3 || parts.length > 4 || !Number.isInteger(passes) || passes < 0 || !(step > 0) || !(radius >= 0) || !(rateSlope >= 0)) {
    throw new HcdError(`--codec-loop wants PASSES,STEP,RADIUS[,SLOPE] (an integer >= 0, then step > 0 and radius >= 0 in 8-bit levels, then dB per doubling >= 0), got '${v}'`);
  }
  return { passes, step, radius, rateSlope };
}

interface EncodeFlags {
  output: string;
  model?: string;
  seconds?: string;
  renditions: string;
  sourceRenditions: string;
  codecAware?: boolean;
  codecLoop?: string;
  hcdIters?: string;
  ep: string;
  segment: string;
  preset: string;
  json?: boolean;
  resume?: boolean;
  force?: boolean;
}

export function registerEncode(program: Command): void {
  program
    .command('encode')
    .description('encode a video into an HLS ladder of LR renditions (plus source-size ones) with the rescaling pair\'s upscaler alongside')
    .argument('<input>', 'video file')
    .requiredOption('-o, --output <dir>', 'output folder (master.m3u8, one folder per rendition, upscaler/)')
    .option('--model <id>', 'rescaling pair: built-in id, folder under models/, or a path (default hcd-x2 if trained, else rdn-x2)')
    .option('--seconds <n>', 'encode only the first N seconds')
    .option('--renditions <list>', 'LR rendition video bitrates', '150k,300k,600k')
    .option('--source-renditions <list>', 'source-resolution rendition bitrates, for players without the upscaler ("" for none)', '800k,1600k')
    .option('--codec-aware', 'codec-aware HCD: re-optimize each LR rendition\'s frames through its own x264 encode and decode (closed loop, per segment)')
    .option('--codec-loop <p,s,r[,k]>', `closed loop of --codec-aware: passes, RMS step and RMS radius in 8-bit levels, dB per bitrate doubling when choosing a pass (default ${CODEC_LOOP_DEFAULTS.passes},${CODEC_LOOP_DEFAULTS.step},${CODEC_LOOP_DEFAULTS.radius},${CODEC_LOOP_DEFAULTS.rateSlope})`)
    .option('--hcd-iters <hr,lr>', 'HCD iterations of the HR and LR stages (0,0: the pair\'s plain downscaler)', DEFAULT_HCD_ITERS.join(','))
    .option('--ep <ep>', 'onnxruntime execution provider: cpu, cuda or webgpu (falls back to cpu)', 'cpu')
    .option('--segment <s>', 'segment length in seconds (one closed GOP, one resumable chunk)', '4')
    .option('--preset <p>', 'x264 preset', 'medium')
    .option('--json', 'JSON-lines progress on stdout, summary last')
    .option('--resume', 'continue an interrupted encode of the same job')
    .option('--force', 'replace whatever OUTDIR holds')
    .action(async (input: string, f: EncodeFlags) => {
      if (!['cpu', 'cuda', 'webgpu'].includes(f.ep)) throw new HcdError(`bad --ep '${f.ep}': use cpu, cuda or webgpu`);
      if (f.codecLoop !== undefined && !f.codecAware) throw new HcdError('--codec-loop needs --codec-aware');
      if (!X264_PRESETS.includes(f.preset)) throw new HcdError(`bad --preset '${f.preset}': use one of ${X264_PRESETS.join(', ')}`);
      const seconds = f.seconds === undefined ? undefined : Number(f.seconds);
      const segment = Number(f.segment);
      const progress = createProgress({ json: !!f.json });
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const summary = await encodeVideo(
          {
            input,
            outdir: f.output,
            model: f.model ?? defaultModelId(),
            seconds,
            segment,
            renditions: parseBitrates(f.renditions),
            sourceRenditions: parseBitrates(f.sourceRenditions),
            codecAware: !!f.codecAware,
            codecLoop: f.codecLoop === undefined ? undefined : parseCodecLoop(f.codecLoop),
            hcdIters: f.hcdIters ? parseIters(f.hcdIters) : undefined,
            ep: f.ep as ExecutionProvider,
            preset: f.preset,
            resume: !!f.resume,
            force: !!f.force,
            signal: abort.signal,
          },
          { onFrame: (p) => progress.frame(p), onWarning: (m) => progress.note(`warning: ${m}`) },
        );
        progress.stop();
        const st = summary.stages;
        progress.note(
          `encoded ${summary.encodedFrames} of ${summary.frames} frames at ${summary.fps.toFixed(1)} fps in ${st.total_s.toFixed(1)} s ` +
            `(decode ${st.decode_s.toFixed(1)} s, rescale ${st.rescale_s.toFixed(1)} s${f.codecAware ? `, codec loop ${st.codec_loop_s.toFixed(1)} s` : ''}, encode ${st.encode_s.toFixed(1)} s)`,
        );
        if (summary.flicker) {
          const fl = summary.flicker;
          progress.note(`  flicker: upscaled LR changes ${fl.output.toFixed(2)} Y levels per frame, the source ${fl.source.toFixed(2)} (${fl.added >= 0 ? '+' : ''}${fl.added.toFixed(2)})`);
        }
        if (summary.codecLoop?.length) {
          const gains = summary.codecLoop.map((c) => c.psnr[c.kept] - c.psnr[0]);
          progress.note(`  codec loop: +${(gains.reduce((a, b) => a + b, 0) / gains.length).toFixed(3)} dB mean RGB PSNR after x264 and the upscaler over ${gains.length} segment-renditions`);
        }
        for (const r of summary.renditions) progress.note(`  ${r.playlist}  ${r.resolution}  ${Math.round(r.averageBandwidth / 1000)} kb/s avg, ${Math.round(r.bandwidth / 1000)} kb/s peak  ${r.codecs}`);
        if (f.json) progress.summary(summary);
        else process.stdout.write(`${f.output}/master.m3u8\n`);
      } finally {
        progress.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
