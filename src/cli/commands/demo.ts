import { basename, extname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ensureSample } from '../../../samples/make-sample.js';
import { DEFAULTS } from '../../config.js';
import { encodeVideo } from '../../encoder/job/encode.js';
import { checkOutputFolder } from '../../encoder/media/files.js';
import { defaultModelId } from '../../encoder/pairs/load.js';
import { buildPlayer } from '../../player/build.js';
import { startServer } from '../../server/app.js';
import { HcdError } from '../../shared/errors.js';
import { createProgress } from '../progress.js';
import { formatBitrates, parseBitrates, parseIters, positive } from '../flags.js';

const D = DEFAULTS.demo;

interface DemoFlags {
  port: string;
  host: string;
  output: string;
  model?: string;
  seconds?: string;
  hcdIters: string;
  renditions?: string;
  sourceRenditions?: string;
  serve: boolean;
  json?: boolean;
}

/**
 * The README's main command: build the player, make the sample if it is missing, encode it with
 * the default model and HCD settings sized for a few minutes on a 2-core CPU, serve it and print
 * the URL. A second run reuses the finished encode (it resumes the same job).
 */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('the main job on the bundled sample (or INPUT): build the player, encode with HCD, serve with the demo page')
    .argument('[input]', 'a video file; the bundled sample if omitted')
    .option('-o, --output <dir>', 'where encoded outputs go (one folder per input)', D.output)
    .option('--model <id>', 'rescaling pair (default hcd-x2 if trained, else rdn-x2)')
    .option('--seconds <n>', 'encode only the first N seconds (default: all of the sample, 10 s of another input)')
    .option('--hcd-iters <hr,lr>', 'HCD iterations per frame (HR, LR stage)', DEFAULTS.encode.hcdIters.join(','))
    .option('--renditions <list>', `a fixed ladder's LR rendition bitrates instead of the per-title ladder (e.g. "${formatBitrates(DEFAULTS.encode.renditions)}")`)
    .option('--source-renditions <list>', `a fixed ladder's source-resolution rendition bitrates (with --renditions; default "${formatBitrates(D.sourceRenditions)}")`)
    .option('--port <n>', 'port to serve on (0 picks a free one)', String(D.port))
    .option('--host <host>', 'address to serve on', D.host)
    .option('--no-serve', 'encode only, do not start the server')
    .option('--json', 'JSON-lines progress')
    .action(async (input: string | undefined, f: DemoFlags) => {
      const hcdIters = parseIters(f.hcdIters); // bad flags fail before any work
      checkOutputFolder(f.output);
      const progress = createProgress({ json: !!f.json });
      progress.note('building the player bundle');
      await buildPlayer();
      const file = input ?? (await ensureSample());
      const seconds = f.seconds !== undefined ? positive('seconds', f.seconds) : input ? D.inputSeconds : undefined;
      const outRoot = resolve(f.output);
      const outdir = join(outRoot, basename(file, extname(file)).replace(/[^\w.-]+/g, '_'));
      const model = f.model ?? defaultModelId();
      progress.note(`encoding ${file} with ${model}, HCD ${f.hcdIters} into ${outdir}`);
      const opts = {
        input: file,
        outdir,
        model,
        seconds,
        segment: D.segment,
        // the per-title ladder unless a fixed one is asked for
        ...(f.renditions !== undefined || f.sourceRenditions !== undefined
          ? { renditions: parseBitrates(f.renditions ?? formatBitrates(DEFAULTS.encode.renditions)), sourceRenditions: parseBitrates(f.sourceRenditions ?? formatBitrates(D.sourceRenditions)) }
          : {}),
        codecAware: false,
        hcdIters,
        resume: true,
        force: false,
      };
      const hooks = { onFrame: progress.frame.bind(progress), onWarning: (w: string) => progress.note(`warning: ${w}`), onNote: (m: string) => progress.note(m) };
      try {
        await encodeVideo(opts, hooks).catch(async (e: unknown) => {
          // the demo folder is ours: an earlier demo with other settings is simply replaced
          if (e instanceof HcdError && /different job|not empty/.test(e.message)) return encodeVideo({ ...opts, resume: false, force: true }, hooks);
          throw e;
        });
      } finally {
        progress.stop();
      }
      if (!f.serve) {
        process.stdout.write(`${join(outdir, 'master.m3u8')}\n`);
        return;
      }
      const server = await startServer({ root: outRoot, port: Number(f.port), host: f.host });
      process.stdout.write(`demo ready: open ${server.url}  (Ctrl-C to stop)\n`);
      await new Promise<void>((done) => {
        const stop = () => void server.close().then(done);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
