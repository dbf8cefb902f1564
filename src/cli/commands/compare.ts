import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { runCompare } from '../../encoder/compare/run.js';
import { KNOWN_PIPELINES, resolvePipelines } from '../../encoder/compare/pipelines.js';
import { toJson } from '../../encoder/compare/report.js';
import { HcdError } from '../../shared/errors.js';
import { parseIters } from './encode.js';

interface CompareFlags {
  out: string;
  seconds?: string;
  start?: string;
  crf: string;
  pipelines: string;
  scale: string;
  preset: string;
  threads: string;
  vmafModel?: string;
  cropKbps?: string;
  json?: boolean;
  model?: string;
  hcdIters?: string;
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

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description('rate-distortion comparison of rendition pipelines (A: source-res x264, B: bicubic down/up; C/D/E: learned) with BD-rates and an HTML report')
    .argument('<input>', 'video to compare on')
    .requiredOption('-o, --out <dir>', 'folder for report.json/csv/html, the encoded streams and crops')
    .option('--seconds <n>', 'only N seconds of the input')
    .option('--start <s>', 'start this many seconds into the input', '0')
    .option('--crf <list>', 'x264 CRF values, comma separated', '22,26,30,34,38')
    .option('--pipelines <list>', `pipelines to run (${KNOWN_PIPELINES.join(', ')})`, 'A,B')
    .option('--scale <n>', 'downscale factor of the low-resolution pipelines', '2')
    .option('--model <id>', 'rescaling pair for C/D (default as hcd encode: hcd-x2 when trained, else rdn-x2)')
    .option('--hcd-iters <hr,lr>', 'HCD iterations of the HR and LR stages for D', '10,10')
    .option('--preset <name>', 'x264 preset, the same for every pipeline', 'medium')
    .option('--threads <n>', 'x264/ffmpeg threads, fixed so that runs repeat', '2')
    .option('--vmaf-model <file>', 'libvmaf model (.pkl) to also measure VMAF')
    .option('--crop-kbps <n>', 'bitrate the before/after crops compare at (default: middle of the common range)')
    .option('--json', 'print report.json on stdout')
    .action(async (input: string, f: CompareFlags) => {
      if (!existsSync(input) || !statSync(input).isFile()) throw new HcdError(`no such input file: ${input}`);
      if (f.vmafModel && !existsSync(f.vmafModel)) throw new HcdError(`no such VMAF model: ${f.vmafModel}`);
      const crfs = parseCrfs(f.crf);
      const cropKbps = f.cropKbps === undefined ? undefined : positive('crop-kbps', f.cropKbps);
      const scale = positive('scale', f.scale, true);
      const ids = f.pipelines.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
      let pipelines;
      try {
        pipelines = await resolvePipelines(ids, { scale, model: f.model, hcdIters: parseIters(f.hcdIters ?? '10,10'), threads: positive('threads', f.threads, true) });
      } catch (e) {
        throw e instanceof HcdError ? e : new HcdError((e as Error).message);
      }
      const created = !existsSync(f.out);
      try {
        mkdirSync(f.out, { recursive: true });
      } catch (e) {
        throw new HcdError(`cannot create ${f.out}: ${(e as Error).message}`);
      }
      // a failed run leaves no trace: runCompare cleans its work folder, we remove a folder we made
      const cleanup = (): void => {
        if (created && existsSync(f.out) && readdirSync(f.out).length === 0) rmdirSync(f.out);
      };
      const report = await runCompare({
        input,
        outDir: f.out,
        seconds: f.seconds === undefined ? undefined : positive('seconds', f.seconds),
        start: nonNegative('start', f.start ?? '0'),
        crfs,
        pipelines,
        preset: f.preset,
        threads: positive('threads', f.threads, true),
        vmafModel: f.vmafModel,
        cropKbps,
        log: (line) => process.stderr.write(`[compare] ${line}\n`),
      }).catch((e: unknown) => {
        cleanup();
        throw e;
      });
      if (f.json) process.stdout.write(toJson(report));
      else process.stderr.write(`[compare] wrote ${f.out}/report.html, report.json, report.csv\n`);
    });
}
