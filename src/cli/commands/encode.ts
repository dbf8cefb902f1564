import type { Command } from 'commander';
import { DEFAULTS, EXECUTION_PROVIDERS } from '../../config.js';
import type { ExecutionProvider } from '../../encoder/graph/session.js';
import { encodeVideo, type EncodeHooks, type EncodeOptions, type EncodeSummary } from '../../encoder/job/encode.js';
import { findRedisServer, withEmbeddedRedis } from '../../encoder/queue/embedded.js';
import { encodeOnQueue } from '../../encoder/queue/submit.js';
import { withLocalWorkers } from '../local-workers.js';
import { createProgress, type ProgressReporter } from '../progress.js';
import { withAbort } from '../signals.js';
import { formatBitrates, formatCodecLoop, parseAudioBitrates, parseBitrates, parseCodecLoop, parseIters, parseConventionalRenditions, parseLadderFlags, positive, type LadderFlags } from '../flags.js';
import { HcdError } from '../../shared/errors.js';

interface EncodeFlags extends LadderFlags {
  output: string;
  model?: string;
  seconds?: string;
  renditions?: string;
  sourceRenditions?: string;
  conventionalRenditions?: string;
  measure?: boolean;
  codecAware?: boolean;
  codecLoop?: string;
  hcdIters?: string;
  ep?: string;
  segment?: string;
  gop?: string;
  audioBitrates?: string;
  preset?: string;
  json?: boolean;
  resume?: boolean;
  force?: boolean;
  queue?: string;
  attempts?: string;
  workers?: string;
}

const D = DEFAULTS.encode;

/**
 * The encode in this process, or on the queue's workers: those of `--queue`, and `--workers N`
 * local ones, on that queue or, without one, on a private redis-server of this encode's own.
 */
function run(f: EncodeFlags, options: EncodeOptions, hooks: EncodeHooks): Promise<EncodeSummary> {
  if (f.queue === undefined && f.workers === undefined) {
    if (f.attempts !== undefined) throw new HcdError('--attempts needs --queue or --workers');
    return encodeVideo(options, hooks);
  }
  const attempts = f.attempts === undefined ? undefined : positive('attempts', f.attempts, true);
  const count = f.workers === undefined ? 0 : positive('workers', f.workers, true);
  const onQueue = (queue: string) => withLocalWorkers({ count, queue, signal: options.signal }, (signal) => encodeOnQueue({ ...options, signal, queue, attempts }, hooks));
  if (f.queue !== undefined) return onQueue(f.queue);
  // looked for before anything is made: without one the encode writes nothing
  try {
    findRedisServer();
  } catch (e) {
    throw new HcdError(`--workers without --queue runs a private redis-server: ${(e as Error).message}`);
  }
  return withEmbeddedRedis(onQueue);
}

/** The lines a person reads at the end of an encode (stderr), whatever --json says. */
function report(progress: ProgressReporter, s: EncodeSummary, codecAware: boolean): void {
  const st = s.stages;
  progress.note(
    `encoded ${s.encodedFrames} of ${s.frames} frames at ${s.fps.toFixed(1)} fps in ${st.total_s.toFixed(1)} s ` +
      `(decode ${st.decode_s.toFixed(1)} s, rescale ${st.rescale_s.toFixed(1)} s${codecAware ? `, codec loop ${st.codec_loop_s.toFixed(1)} s` : ''}, encode ${st.encode_s.toFixed(1)} s)`,
  );
  if (s.flicker) {
    const fl = s.flicker;
    progress.note(`  flicker: upscaled LR changes ${fl.output.toFixed(2)} Y levels per frame, the source ${fl.source.toFixed(2)} (${fl.added >= 0 ? '+' : ''}${fl.added.toFixed(2)})`);
  }
  if (s.codecLoop?.length) {
    const gains = s.codecLoop.map((c) => c.psnr[c.kept] - c.psnr[0]);
    progress.note(`  codec loop: +${(gains.reduce((a, b) => a + b, 0) / gains.length).toFixed(3)} dB mean RGB PSNR after x264 and the upscaler over ${gains.length} segment-renditions`);
  }
  for (const r of s.renditions) progress.note(`  ${r.playlist}  ${r.resolution}  ${Math.round(r.averageBandwidth / 1000)} kb/s avg, ${Math.round(r.bandwidth / 1000)} kb/s peak  ${r.codecs}${r.audio ? `  + ${r.audio}` : ''}`);
  for (const a of s.audio) progress.note(`  ${a.playlist}  AAC-LC stereo  ${Math.round(a.averageBandwidth / 1000)} kb/s avg`);
}

export function registerEncode(program: Command): void {
  program
    .command('encode')
    .description('encode a video into an HLS ladder of LR renditions (plus source-size ones) with the rescaling pair\'s upscaler alongside')
    .argument('<input>', 'video file')
    .requiredOption('-o, --output <dir>', 'output folder (master.m3u8, one folder per rendition, upscaler/)')
    .option('--model <id>', 'rescaling pair: built-in id, folder under models/, or a path (default hcd-x2 if trained, else rdn-x2)')
    .option('--seconds <n>', 'encode only the first N seconds')
    .option('--ladder <kind>', `auto: rungs chosen per title by a probe of conventional and neural candidates through x264; fixed: --renditions and --source-renditions (default "${D.ladder}")`)
    .option('--bitrates <list>', 'auto ladder: the target video bitrates, each of which must be reachable (e.g. 150k,300k,600k)')
    .option('--rungs <n>', `auto ladder: this many targets, spaced evenly in log rate from --min-kbps to --max-kbps (default "${D.auto.rungs}")`)
    .option('--min-kbps <k>', `auto ladder: the lowest target (default "${D.auto.minBitrate / 1000}")`)
    .option('--max-kbps <k>', `auto ladder: the highest target (default "${D.auto.maxBitrate / 1000}"; default targets beyond what the probe reaches move to its edge)`)
    .option('--metric <m>', 'auto ladder: psnr (PSNR-Y) or vmaf, the quality rungs are chosen by; both are reported where VMAF can be measured (default "psnr")')
    .option('--vmaf-model <file>', 'libvmaf model for the ladder (default: $HCD_VMAF_MODEL, else libvmaf\'s built-in model where it has one)')
    .option('--no-neural', 'auto ladder: conventional candidates only (the conventional per-title ladder)')
    .option('--renditions <list>', `fixed ladder: LR rendition video bitrates (default "${formatBitrates(D.renditions)}")`)
    .option('--source-renditions <list>', `fixed ladder: source-resolution rendition bitrates, for players without the upscaler ("" for none) (default "${formatBitrates(D.sourceRenditions)}")`)
    .option('--conventional-renditions <list>', 'fixed ladder: rungs at sizes of their own, bicubic from the source, as WxH@BITRATE (e.g. Apple\'s 416x234@145k,640x360@365k)')
    .option('--measure', 'measure every rung on the whole encode at the end, PSNR-Y and VMAF (with a model) as the viewer sees it (default with --ladder auto)')
    .option('--no-measure', 'skip that measurement')
    .option('--codec-aware', 'codec-aware HCD: re-optimize each LR rendition\'s frames through its own x264 encode and decode (closed loop, per segment)')
    .option('--codec-loop <p,s,r[,k]>', `closed loop of --codec-aware: passes, RMS step and RMS radius in 8-bit levels, dB per bitrate doubling when choosing a pass (default ${formatCodecLoop(D.codecLoop)})`)
    .option('--hcd-iters <hr,lr>', `HCD iterations of the HR and LR stages (0,0: the pair's plain downscaler) (default "${D.hcdIters.join(',')}")`)
    .option('--ep <ep>', `onnxruntime execution provider: ${EXECUTION_PROVIDERS.join(', ')} (falls back to cpu) (default "${D.ep}")`)
    .option('--segment <s>', `segment length in seconds, a whole number of GOPs (one resumable chunk) (default "${D.segment}")`)
    .option('--gop <s>', `seconds between IDR frames (closed GOPs; default "${D.gop}", or the segment when ${D.gop} does not divide it)`)
    .option('--audio-bitrates <low,normal>', `AAC bitrates of the low rungs' audio group and the others' (default "${formatBitrates(D.audioBitrates)}")`)
    .option('--preset <p>', `x264 preset (default "${D.preset}")`)
    .option('--json', 'JSON-lines progress on stdout, summary last')
    .option('--resume', 'continue an interrupted encode of the same job')
    .option('--force', 'replace whatever OUTDIR holds')
    .option('--queue <url>', 'encode on `hcd worker`s: one job per chunk on this Redis, redis://[:password@]HOST:PORT[/DB] or rediss:// (input and OUTDIR on a shared filesystem)')
    .option('--attempts <n>', 'with --queue or --workers: tries per chunk before the encode fails (default "3")')
    .option('--workers <n>', 'start N `hcd worker`s on this machine, one onnxruntime thread each, for the time of the encode: on --queue, or without it on a private redis-server (apt-get install redis-server)')
    .action(async (input: string, f: EncodeFlags) => {
      const progress = createProgress({ json: !!f.json });
      try {
        const summary = await withAbort((signal) =>
          run(
            f,
            {
              input,
              outdir: f.output,
              model: f.model,
              seconds: f.seconds === undefined ? undefined : positive('seconds', f.seconds),
              segment: f.segment === undefined ? undefined : positive('segment', f.segment),
              gop: f.gop === undefined ? undefined : positive('gop', f.gop),
              audioBitrates: f.audioBitrates === undefined ? undefined : parseAudioBitrates(f.audioBitrates),
              ...parseLadderFlags(f),
              renditions: f.renditions === undefined ? undefined : parseBitrates(f.renditions),
              sourceRenditions: f.sourceRenditions === undefined ? undefined : parseBitrates(f.sourceRenditions),
              conventionalRenditions: f.conventionalRenditions === undefined ? undefined : parseConventionalRenditions(f.conventionalRenditions),
              measure: f.measure,
              codecAware: !!f.codecAware,
              codecLoop: f.codecLoop === undefined ? undefined : parseCodecLoop(f.codecLoop),
              hcdIters: f.hcdIters === undefined ? undefined : parseIters(f.hcdIters),
              ep: f.ep as ExecutionProvider | undefined,
              preset: f.preset,
              resume: !!f.resume,
              force: !!f.force,
              signal,
            },
            { onFrame: (p) => progress.frame(p), onWarning: (m) => progress.note(`warning: ${m}`), onNote: (m) => progress.note(m) },
          ),
        );
        progress.stop();
        report(progress, summary, !!f.codecAware);
        if (f.json) progress.summary(summary);
        else process.stdout.write(`${f.output}/master.m3u8\n`);
      } finally {
        progress.stop();
      }
    });
}
