import { HcdError } from '../shared/errors.js';
import type { CodecLoopOptions } from '../encoder/hcd/codec-loop.js';
import { learnedPipeline, type LearnedId } from './learned.js';
import { scaleFraction } from './scales.js';
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

function sizeWords(scale: number): string {
  const [num, den] = scaleFraction(scale);
  return den === 1 ? `x${num} down` : `to ${den}/${num} size`;
}

/**
 * Bicubic down by `scale` (source/encoded, 4/3 for a 3/4-size rung), x264, bicubic up in the
 * player: a conventional low rung. 'B' is the one at --scale; B34, B2 and B4 are fixed sizes.
 */
export function bicubicPipeline(scale = 2, id = 'B'): FfmpegPipeline {
  return {
    kind: 'ffmpeg',
    id,
    label: `bicubic ${sizeWords(scale)}, x264, bicubic up`,
    scale,
    downFilter: (_src, lr) => `scale=${lr.width}:${lr.height}:flags=bicubic`,
    upFilter: (src) => `scale=${src.width}:${src.height}:flags=bicubic`,
  };
}

/** The conventional rungs with a fixed size, by id: 3/4, 1/2 and 1/4 of the source. */
const FIXED_RUNGS: Record<string, number> = { B34: 4 / 3, B2: 2, B4: 4 };

/** Conventional pipelines: what a per-title encoder without a learned pair can choose from. */
export const CONVENTIONAL = ['A', 'B', ...Object.keys(FIXED_RUNGS)];

export interface PipelineOptions {
  /** Downscale factor of B and of the learned x{scale} pipelines (C, D, E). */
  scale: number;
  /** Rescaling pair for C, D and E. */
  model?: string;
  /** x4 pair for C4 (default hcd-x4 when trained). */
  model4?: string;
  /** HCD iterations (HR, LR) for D and E. */
  hcdIters?: [number, number];
  /** E's closed loop settings. */
  codecLoop?: Partial<CodecLoopOptions>;
  threads?: number;
  log?: (line: string) => void;
}

const LEARNED: LearnedId[] = ['C', 'D', 'E', 'C4'];

export const KNOWN_PIPELINES = [...CONVENTIONAL, ...LEARNED];

const isLearned = (id: string): id is LearnedId => (LEARNED as string[]).includes(id);

function conventional(id: string, scale: number): FfmpegPipeline | undefined {
  if (id === 'A') return sourcePipeline;
  if (id === 'B') return bicubicPipeline(scale);
  return id in FIXED_RUNGS ? bicubicPipeline(FIXED_RUNGS[id], id) : undefined;
}

/** The pipelines for the given ids, in that order. */
export async function resolvePipelines(ids: string[], opts: PipelineOptions): Promise<Pipeline[]> {
  const out: Pipeline[] = [];
  for (const id of ids) {
    const c = conventional(id, opts.scale);
    if (c) out.push(c);
    else if (isLearned(id)) out.push(await learnedPipeline(id, opts));
    else throw new HcdError(`unknown pipeline '${id}': choose from ${KNOWN_PIPELINES.join(', ')}`);
  }
  return out;
}

/** The hull may only hold conventional pipelines: it is what the learned ones must beat. */
export function checkHull(ids: string[]): void {
  const bad = ids.filter((id) => !CONVENTIONAL.includes(id));
  if (bad.length) throw new HcdError(`--hull takes conventional pipelines only (${CONVENTIONAL.join(', ')}), not ${bad.join(', ')}`);
}
