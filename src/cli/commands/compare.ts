import type { Command } from 'commander';
import { DEFAULTS } from '../../config.js';
import { compareJob } from '../../compare/job.js';
import { KNOWN_PIPELINES } from '../../compare/pipelines.js';
import { toJson } from '../../compare/report.js';
import { formatCodecLoop, nonNegative, parseCodecLoop, parseCrfs, parseHullCrfs, parseIters, positive } from '../flags.js';

interface CompareFlags {
  output?: string;
  seconds?: string;
  start?: string;
  crf?: string;
  hullCrf?: string;
  pipelines?: string;
  hull?: string;
  scale?: string;
  preset?: string;
  threads?: string;
  vmafModel?: string;
  cropKbps?: string;
  json?: boolean;
  model?: string;
  model4?: string;
  hcdIters?: string;
  codecLoop?: string;
}

const D = DEFAULTS.compare;
const opt = <T>(v: string | undefined, parse: (s: string) => T): T | undefined => (v === undefined ? undefined : parse(v));
const ids = (v: string): string[] => v.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description('rate-distortion comparison of rendition pipelines (A: source-res x264; B, B34, B2, B4: bicubic down/up; C/D/E/C4: learned) with BD-rates against source and the conventional hull, and an HTML report')
    .argument('<input>', 'video to compare on, or an hcd encode output folder (then its input, --seconds and pair, and the report goes to FOLDER/compare)')
    .option('-o, --output <dir>', 'folder for report.json/csv/html, the encoded streams and crops (required for a video; default FOLDER/compare for an encode output)')
    .option('--seconds <n>', 'only N seconds of the input (default: all, or the encode\'s --seconds)')
    .option('--start <s>', `start this many seconds into the input (default ${D.start})`)
    .option('--crf <list>', `x264 CRF values, comma separated (default "${D.crfs.join(',')}")`)
    .option('--hull-crf <list>', `extra CRFs for the hull pipelines only, so that the hull reaches the low qualities of the downscaled pipelines ('none' for none) (default "${D.hullCrfs.join(',')}")`)
    .option('--pipelines <list>', `pipelines to run (${KNOWN_PIPELINES.join(', ')}; default ${D.pipelines.join(',')}; for an encode output A,B plus C or D as the encode made its LR frames)`)
    .option('--hull <list>', `conventional pipelines the hull is the best of, those of them that run (default ${D.hull.join(',')})`)
    .option('--scale <n>', `downscale factor of the low-resolution pipelines (default ${D.scale}, or the encode's pair's)`)
    .option('--model <id>', 'rescaling pair for C/D (default the encode\'s, else as hcd encode: hcd-x2 when trained, else rdn-x2)')
    .option('--model4 <id>', 'x4 rescaling pair for C4 (default hcd-x4 when trained, else rdn-x4)')
    .option('--hcd-iters <hr,lr>', `HCD iterations of the HR and LR stages for D and E (default the encode's, else ${D.hcdIters.join(',')} as hcd encode)`)
    .option('--codec-loop <p,s,r[,k]>', `E's closed loop: passes, RMS step and radius in 8-bit levels, dB per bitrate doubling (default ${formatCodecLoop(D.codecLoop)}, or the encode's)`)
    .option('--preset <name>', `x264 preset, the same for every pipeline (default ${D.preset})`)
    .option('--threads <n>', `x264/ffmpeg threads, fixed so that runs repeat (default ${D.threads})`)
    .option('--vmaf-model <file>', 'VMAF model file (libvmaf 1.x: .pkl with .pkl.model beside it; 2.x: .json) (default $HCD_VMAF_MODEL, else libvmaf 2.x\'s built-in vmaf_v0.6.1, else no VMAF)')
    .option('--crop-kbps <n>', 'bitrate the before/after crops compare at (default: middle of the common range)')
    .option('--json', 'print report.json on stdout')
    .action(async (input: string, f: CompareFlags) => {
      const log = (line: string): void => void process.stderr.write(`[compare] ${line}\n`);
      const report = await compareJob({
        input,
        output: f.output,
        seconds: opt(f.seconds, (v) => positive('seconds', v)),
        start: opt(f.start, (v) => nonNegative('start', v)),
        crfs: opt(f.crf, parseCrfs),
        hullCrfs: opt(f.hullCrf, parseHullCrfs),
        pipelines: opt(f.pipelines, ids),
        hull: opt(f.hull, ids),
        scale: opt(f.scale, (v) => positive('scale', v, true)),
        model: f.model,
        model4: f.model4,
        hcdIters: opt(f.hcdIters, parseIters),
        codecLoop: opt(f.codecLoop, parseCodecLoop),
        preset: f.preset,
        threads: opt(f.threads, (v) => positive('threads', v, true)),
        vmafModel: f.vmafModel,
        cropKbps: opt(f.cropKbps, (v) => positive('crop-kbps', v)),
        log,
      });
      if (f.json) process.stdout.write(toJson(report));
      else log(`wrote ${f.output ?? `${input}/compare`}/report.html, report.json, report.csv`);
    });
}
