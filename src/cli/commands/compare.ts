import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { runCompare } from '../../compare/run.js';
import { KNOWN_PIPELINES, resolvePipelines } from '../../compare/pipelines.js';
import { toJson } from '../../compare/report.js';
import { encodePipelines, isFolder, resolveEncodeFolder, type EncodeFolder } from '../../compare/folder.js';
import { HcdError } from '../../shared/errors.js';
import { CODEC_LOOP_DEFAULTS, type CodecLoopOptions } from '../../encoder/hcd/codec-loop.js';
import { parseCodecLoop, parseIters } from './encode.js';

interface CompareFlags {
  out?: string;
  seconds?: string;
  start?: string;
  crf: string;
  hullCrf: string;
  pipelines?: string;
  scale?: string;
  preset: string;
  threads: string;
  vmafModel?: string;
  cropKbps?: string;
  json?: boolean;
  model?: string;
  hcdIters?: string;
  codecLoop?: string;
}

function positive(name: string, v: string, integer = false): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new HcdError(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got '${v}'`);
  return n;
}

function nonNegative(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new HcdError(`--${name} must be a number >= 0, got '${v}'`);
  return n;
}

export function parseCrfs(v: string): number[] {
  const crfs = v.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (crfs.length < 2 || crfs.some((c) => !Number.isInteger(c) || c < 0 || c > 51)) throw new HcdError(`--crf wants at least two integers 0-51 separated by commas, got '${v}'`);
  if (new Set(crfs).size !== crfs.length) throw new HcdError(`--crf has a repeated value: '${v}'`);
  return crfs;
}

/** --hull-crf: CRFs 0-51, possibly none ('' or 'none'). */
export function parseHullCrfs(v: string): number[] {
  if (v.trim() === '' || v.trim() === 'none') return [];
  const crfs = v.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (crfs.some((c) => !Number.isInteger(c) || c < 0 || c > 51)) throw new HcdError(`--hull-crf wants integers 0-51 separated by commas (or 'none'), got '${v}'`);
  return crfs;
}

/**
 * What to compare and where the report goes. An encode output folder supplies the input, its
 * --seconds, pair, scale and HCD iterations (flags still win) and the default report folder
 * FOLDER/compare; a video needs -o.
 */
interface Target {
  input: string;
  out: string;
  seconds?: number;
  model?: string;
  scale: number;
  hcdIters: [number, number];
  codecLoop?: Partial<CodecLoopOptions>;
  pipelines: string[];
  folder?: EncodeFolder;
}

function resolveTarget(input: string, f: CompareFlags): Target {
  const folder = isFolder(input) ? resolveEncodeFolder(input) : undefined;
  if (!folder && (!existsSync(input) || !statSync(input).isFile())) throw new HcdError(`no such input file: ${input}`);
  const out = f.out ?? folder?.reportDir;
  if (out === undefined) throw new HcdError('-o DIR is required when INPUT is a video (it is optional only for an hcd encode output folder, whose report goes to FOLDER/compare)');
  const ids = f.pipelines?.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean) ?? (folder ? encodePipelines(folder) : ['A', 'B']);
  return {
    input: folder?.input ?? input,
    out,
    seconds: f.seconds === undefined ? folder?.seconds : positive('seconds', f.seconds),
    model: f.model ?? folder?.model,
    scale: f.scale === undefined ? (folder?.scale ?? 2) : positive('scale', f.scale, true),
    hcdIters: f.hcdIters === undefined ? (folder?.hcdIters ?? [10, 10]) : parseIters(f.hcdIters),
    codecLoop: f.codecLoop === undefined ? folder?.codecLoop : parseCodecLoop(f.codecLoop),
    pipelines: ids,
    folder,
  };
}

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description('rate-distortion comparison of rendition pipelines (A: source-res x264, B: bicubic down/up; C/D/E: learned) with BD-rates and an HTML report')
    .argument('<input>', 'video to compare on, or an hcd encode output folder (then its input, --seconds and pair, and the report goes to FOLDER/compare)')
    .option('-o, --out <dir>', 'folder for report.json/csv/html, the encoded streams and crops (required for a video; default FOLDER/compare for an encode output)')
    .option('--seconds <n>', 'only N seconds of the input (default: all, or the encode\'s --seconds)')
    .option('--start <s>', 'start this many seconds into the input', '0')
    .option('--crf <list>', 'x264 CRF values, comma separated', '22,26,30,34,38')
    .option('--hull-crf <list>', "extra CRFs for A and B only, so that the conventional hull reaches the low qualities of the x2 pipelines ('none' for none)", '42,46,51')
    .option('--pipelines <list>', `pipelines to run (${KNOWN_PIPELINES.join(', ')}; default A,B, or A,B plus C or D as the encode made its LR frames)`)
    .option('--scale <n>', 'downscale factor of the low-resolution pipelines (default 2, or the encode\'s pair\'s)')
    .option('--model <id>', 'rescaling pair for C/D (default the encode\'s, else as hcd encode: hcd-x2 when trained, else rdn-x2)')
    .option('--hcd-iters <hr,lr>', 'HCD iterations of the HR and LR stages for D and E (default the encode\'s, else 10,10)')
    .option('--codec-loop <p,s,r[,k]>', `E's closed loop: passes, RMS step and radius in 8-bit levels, dB per bitrate doubling (default ${CODEC_LOOP_DEFAULTS.passes},${CODEC_LOOP_DEFAULTS.step},${CODEC_LOOP_DEFAULTS.radius},${CODEC_LOOP_DEFAULTS.rateSlope}, or the encode's)`)
    .option('--preset <name>', 'x264 preset, the same for every pipeline', 'medium')
    .option('--threads <n>', 'x264/ffmpeg threads, fixed so that runs repeat', '2')
    .option('--vmaf-model <file>', 'libvmaf model (.pkl) to also measure VMAF')
    .option('--crop-kbps <n>', 'bitrate the before/after crops compare at (default: middle of the common range)')
    .option('--json', 'print report.json on stdout')
    .action(async (input: string, f: CompareFlags) => {
      const t = resolveTarget(input, f);
      if (f.vmafModel && !existsSync(f.vmafModel)) throw new HcdError(`no such VMAF model: ${f.vmafModel}`);
      const crfs = parseCrfs(f.crf);
      const hullCrfs = parseHullCrfs(f.hullCrf);
      const cropKbps = f.cropKbps === undefined ? undefined : positive('crop-kbps', f.cropKbps);
      const log = (line: string): void => void process.stderr.write(`[compare] ${line}\n`);
      if (t.folder) {
        log(`encode output ${input}: input ${t.input}${t.seconds !== undefined ? `, ${t.seconds} s` : ''}, model ${t.folder.model} x${t.folder.scale}${t.folder.hcdIters ? `, HCD ${t.folder.hcdIters.join(',')} iters` : ''}; pipelines ${t.pipelines.join(',')}; report to ${t.out}`);
      }
      let pipelines;
      try {
        pipelines = await resolvePipelines(t.pipelines, { scale: t.scale, model: t.model, hcdIters: t.hcdIters, codecLoop: t.codecLoop, threads: positive('threads', f.threads, true), log });
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        // a pair given by path at encode time is recorded by its id, which may not resolve now
        const hint = t.folder && f.model === undefined && /model/.test(msg) ? ` (the pair recorded in ${input}/job.json; pass --model to choose one)` : '';
        throw e instanceof HcdError && !hint ? e : new HcdError(`${msg}${hint}`);
      }
      const created = !existsSync(t.out);
      try {
        mkdirSync(t.out, { recursive: true });
      } catch (e) {
        throw new HcdError(`cannot create ${t.out}: ${(e as Error).message}`);
      }
      // a failed run leaves no trace: runCompare cleans its work folder, we remove a folder we made
      const cleanup = (): void => {
        if (created && existsSync(t.out) && readdirSync(t.out).length === 0) rmdirSync(t.out);
      };
      const report = await runCompare({
        input: t.input,
        outDir: t.out,
        seconds: t.seconds,
        start: nonNegative('start', f.start ?? '0'),
        crfs,
        hullCrfs,
        pipelines,
        preset: f.preset,
        threads: positive('threads', f.threads, true),
        vmafModel: f.vmafModel,
        cropKbps,
        log,
      }).catch((e: unknown) => {
        cleanup();
        throw e;
      });
      if (f.json) process.stdout.write(toJson(report));
      else log(`wrote ${t.out}/report.html, report.json, report.csv`);
    });
}
