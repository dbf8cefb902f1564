import type { Command } from 'commander';
import { makeSample, SAMPLE_PATH } from '../../../samples/make-sample.js';
import { positive } from '../flags.js';

export function registerSample(program: Command): void {
  program
    .command('sample')
    .description('make the bundled sample clip from ffmpeg test sources (deterministic, ~5 s, 640x360, 24 fps)')
    .option('-o, --output <file>', 'where to write it', SAMPLE_PATH)
    .option('--seconds <n>', 'length in seconds', (v) => positive('seconds', v), 5)
    .action(async (opts: { output: string; seconds: number }) => {
      const out = await makeSample(opts.output, { seconds: opts.seconds });
      process.stdout.write(`${out}\n`);
    });
}
