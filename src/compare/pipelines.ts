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

/** The learned pipelines, each built from the pair on the encoder's own parts (learned.ts). */
const LEARNED: Record<'C' | 'D' | 'E', string> = {
  C: 'learned downscaler, x264, learned upscaler',
  D: 'HCD-optimized LR frames, x264, learned upscaler',
  E: 'HCD with the codec in the loop, x264, learned upscaler',
};

export const KNOWN_PIPELINES = ['A', 'B', ...Object.keys(LEARNED)];

const isLearned = (id: string): id is keyof typeof LEARNED => id in LEARNED;

/** The pipelines for the given letters, in that order. */
export async function resolvePipelines(ids: string[], opts: PipelineOptions): Promise<Pipeline[]> {
  const out: Pipeline[] = [];
  for (const id of ids) {
    if (id === 'A') out.push(sourcePipeline);
    else if (id === 'B') out.push(bicubicPipeline(opts.scale));
    else if (isLearned(id)) out.push(await learnedPipeline(id, opts));
    else throw new HcdError(`unknown pipeline '${id}': choose from ${KNOWN_PIPELINES.join(', ')}`);
  }
  return out;
}
