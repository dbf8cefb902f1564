/**
 * `node --import tsx down-main.ts PAIR EP THREADS WIDTH HEIGHT IN.rgb OUT.rgb`: the pair's plain D
 * on a file of raw RGB frames, into another (down-process.ts starts it).
 */
import { readFile } from 'node:fs/promises';
import { createRescaler } from '../hcd/rescalers.js';
import type { ExecutionProvider } from '../graph/session.js';
import { writeFrames } from '../media/files.js';
import { loadPair } from '../pairs/load.js';

async function main(argv: string[]): Promise<void> {
  const [pairRef, ep, threads, w, h, input, output] = argv;
  const width = Number(w);
  const height = Number(h);
  const size = width * height * 3;
  const rescaler = await createRescaler(await loadPair(pairRef), { ep: ep as ExecutionProvider, threads: Number(threads) });
  const frames = await readFile(input);
  const out: Uint8Array[] = [];
  for (let i = 0; (i + 1) * size <= frames.length; i++) {
    out.push((await rescaler.process({ width, height, data: frames.subarray(i * size, (i + 1) * size) }, { index: i, sceneCut: false })).data);
  }
  await rescaler.close();
  await writeFrames(output, out);
}

// one line on stderr, which the parent's error ends with
main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`);
  process.exit(1);
});
