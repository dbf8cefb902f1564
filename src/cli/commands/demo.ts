import type { Command } from 'commander';
import { ensureSample } from '../../../samples/make-sample.js';
import { probe } from '../../encoder/ffmpeg.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('the main job on the bundled sample (or INPUT): make, encode and serve it')
    .argument('[input]', 'a video file; the bundled sample if omitted')
    .action(async (input: string | undefined) => {
      const file = input ?? (await ensureSample());
      const info = await probe(file, { countFrames: true });
      const v = info.streams.find((s) => s.codec_type === 'video');
      process.stdout.write(`${file}: ${v?.width}x${v?.height}, ${v?.nb_read_frames} frames, ${v?.codec_name}\n`);
    });
}
