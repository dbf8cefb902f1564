import { isAbsolute, normalize } from 'node:path';
import { z } from 'zod';
import { EXECUTION_PROVIDERS, X264_PRESETS } from '../../config.js';
import type { ExecutionProvider } from '../graph/session.js';

/** The one queue and the one job type a worker runs. */
export const QUEUE_NAME = 'hcd-chunks';
export const CHUNK_JOB = 'hcd-chunk';
/**
 * The log line a worker adds to a chunk job it finished, `encode_ms=N skip_ms=M`: the chunk's own
 * time from its first frame decoded to its segments in place, and the time spent decoding the
 * input's frames before the chunk. The job's run time less both is the worker's setup.
 */
export const chunkTimesLog = (t: { encodeMs: number; skipMs: number }): string => `encode_ms=${Math.round(t.encodeMs)} skip_ms=${Math.round(t.skipMs)}`;

const count = z.number().int().min(0);
const positive = z.number().finite().positive();
const bitrate = z.number().int().positive();
/** An absolute path with nothing to normalize away (no `..`, no doubled separators). */
const absolute = z.string().min(1).refine((p) => isAbsolute(p) && normalize(p) === p && !p.includes('\0'), 'an absolute, normalized path');
/** A model is named by id: a worker loads its own copy, never a path a job hands it. */
const modelId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'a model id (a path is not accepted on the queue)');

const EncodeConfigSchema = z
  .object({
    input: absolute,
    outdir: absolute,
    model: modelId,
    seconds: positive.optional(),
    segment: positive,
    gop: positive,
    ladder: z.enum(['auto', 'fixed']),
    // the worker never reads the VMAF model: it takes the ladder the submitter chose from OUTDIR
    auto: z
      .object({ bitrates: z.array(bitrate).max(16).optional(), rungs: count, minBitrate: bitrate, maxBitrate: bitrate, metric: z.enum(['psnr_y', 'vmaf']), neural: z.boolean(), vmafModel: absolute.optional() })
      .strict(),
    renditions: z.array(bitrate).max(32),
    sourceRenditions: z.array(bitrate).max(32),
    conventionalRenditions: z.array(z.object({ width: count, height: count, bitrate }).strict()).max(32),
    measure: z.boolean(),
    codecAware: z.boolean(),
    codecLoop: z.object({ passes: count, step: positive, radius: z.number().finite().min(0), rateSlope: z.number().finite().min(0) }).strict(),
    hcdIters: z.tuple([count, count]),
    ep: z.custom<ExecutionProvider>((v) => (EXECUTION_PROVIDERS as readonly unknown[]).includes(v), 'an execution provider'),
    preset: z.string().refine((p) => (X264_PRESETS as readonly string[]).includes(p), 'an x264 preset'),
    audioBitrates: z.tuple([bitrate, bitrate]),
    resume: z.boolean(),
    force: z.boolean(),
  })
  .strict();

const hex = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${n}}$`));

/** One chunk job: which job, which chunk, and everything that decides its bytes. */
export const ChunkJobData = z
  .object({
    v: z.literal(1),
    /** The job in this OUTDIR: its jobs' ids start with it. */
    jobId: hex(16),
    /** The job record's tag (job.json's, names.ts). */
    tag: hex(8),
    input: absolute,
    outdir: absolute,
    chunk: z.object({ index: count, startFrame: count, frames: count.min(1) }).strict(),
    config: EncodeConfigSchema,
    model: z.object({ id: modelId, hash: hex(64) }).strict(),
  })
  .strict()
  .refine((d) => d.config.input === d.input && d.config.outdir === d.outdir && d.config.model === d.model.id, 'input, outdir and model must match the config');
export type ChunkJobData = z.infer<typeof ChunkJobData>;

const IFrame = z.tuple([count, count, count]);
// key order as the sequential encode writes them, so state.json comes out byte for byte the same
const ChunkRecordSchema = z
  .object({
    index: count,
    startFrame: count,
    frames: count.min(1),
    bytes: z.record(z.string(), count),
    iframes: z.record(z.string(), z.array(IFrame).min(1)),
    audio: positive.optional(),
  })
  .strict();
const RenditionInfoSchema = z.object({ codecs: z.string(), width: count, height: count, frameRate: z.number().finite().min(0) }).strict();

/** What a worker returns: the chunk's record and its renditions' measured info; null when the input ended before the chunk. */
export const ChunkJobResult = z.object({ record: ChunkRecordSchema.nullable(), info: z.record(z.string(), RenditionInfoSchema) }).strict();
export type ChunkJobResult = z.infer<typeof ChunkJobResult>;

/** The first problem of a value that failed a schema, in one short line. */
export function firstIssue(e: z.ZodError): string {
  const i = e.issues[0];
  return i ? `${i.path.join('.') || 'payload'}: ${i.message}` : 'invalid';
}
