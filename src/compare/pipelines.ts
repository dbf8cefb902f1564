import { HcdError } from '../shared/errors.js';
import type { CodecLoopOptions } from '../encoder/hcd/codec-loop.js';
import { learnedPipeline } from './learned.js';
import type { FfmpegPipeline, Pipeline } from './types.js';

/** A: encode the source resolution as is, show it as decoded. */
export const sourcePipeline: FfmpegPipeline = {
  kind: 'ffmpeg',
  id: 'A',
  label: 'x264 at source resolution',
  scale: 1,
  downFilter: () => undefined,
  upFilter: () => undefined,
};

/** B: bicubic down by `scale`, x264, bicubic up in the player (what a plain low rung looks like). */
export function bicubicPipeline(scale = 2): FfmpegPipeline {
  return {
    kind: 'ffmpeg',
    id: 'B',
    label: `bicubic x${scale} down, x264, bicubic up`,
    scale,
    downFilter: (_src, lr) => `scale=${lr.width}:${lr.height}:flags=bicubic`,
    upFilter: (src) => `scale=${src.width}:${src.height}:flags=bicubic`,
  };
}

export interface PipelineOptions {
  scale: number;
  /** Rescaling pair for the learned pipelines. */
  model?: string;
  /** HCD iterations (HR, LR) for D and E. */
  hcdIters?: [number, number];
  /** E's closed loop settings. */
  codecLoop?: Partial<CodecLoopOptions>;
  threads?: number;
  log?: (line: string) => void;
}

/** Builds a pipeline from the options (the learned ones load a pair). */
export type PipelineFactory = (opts: PipelineOptions) => Pipeline | Promise<Pipeline>;

const learned: Record<string, { describe: string; factory?: PipelineFactory }> = {
  C: { describe: 'learned downscaler, x264, learned upscaler', factory: (o) => learnedPipeline('C', o) },
  D: { describe: 'HCD-optimized LR frames, x264, learned upscaler', factory: (o) => learnedPipeline('D', o) },
  E: { describe: 'HCD with the codec in the loop, x264, learned upscaler', factory: (o) => learnedPipeline('E', o) },
};

/** Lets the learned-pair code plug pipeline C, D or E in without changing the runner. */
export function registerLearnedPipeline(id: 'C' | 'D' | 'E', factory: PipelineFactory): void {
  learned[id].factory = factory;
}

export const KNOWN_PIPELINES = ['A', 'B', ...Object.keys(learned)];

/** The pipelines for the given letters; a letter with nothing behind it yet is an error, not a skip. */
export async function resolvePipelines(ids: string[], opts: PipelineOptions): Promise<Pipeline[]> {
  const out: Pipeline[] = [];
  for (const id of ids) {
    if (id === 'A') out.push(sourcePipeline);
    else if (id === 'B') out.push(bicubicPipeline(opts.scale));
    else if (learned[id]?.factory) out.push(await learned[id].factory(opts));
    else if (learned[id]) throw new HcdError(`pipeline ${id} (${learned[id].describe}) is not available in this build`);
    else throw new HcdError(`unknown pipeline '${id}': choose from ${KNOWN_PIPELINES.join(', ')}`);
  }
  return out;
}
