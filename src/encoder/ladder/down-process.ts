import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ExecutionProvider } from '../graph/session.js';
import { runTool } from '../media/ffmpeg.js';
import type { RescalingPair } from '../pairs/load.js';
import type { Size } from './candidates.js';

const require = createRequire(import.meta.url);

/**
 * The pair's plain D on the raw RGB frames of `input` (frames of `hr`), written to `output`, in a
 * Node process of its own. onnxruntime-node runs a session on the thread that calls it, so D on
 * the probe's main thread would hold up, for most of a window, everything else the probe does
 * there: the upscaler of the neural points, the pipes to ffmpeg, the bookkeeping of every lane.
 * A worker thread would do as well, but tsx's loader did not take effect in one on Node 20.
 */
export async function downInProcess(pair: RescalingPair, o: { ep?: ExecutionProvider; threads: number; signal?: AbortSignal }, hr: Size, input: string, output: string): Promise<void> {
  const loader = pathToFileURL(require.resolve('tsx')).href;
  const main = fileURLToPath(new URL('./down-main.ts', import.meta.url));
  await runTool(process.execPath, ['--import', loader, main, pair.dir ?? pair.id, o.ep ?? 'cpu', String(o.threads), String(hr.width), String(hr.height), input, output], { signal: o.signal });
}
