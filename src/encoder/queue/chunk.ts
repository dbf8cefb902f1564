import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { resolveEncodeConfig } from '../../config.js';
import { jobTag } from '../job/names.js';
import { closeSessions, openSessions, planJob, type JobPlan } from '../job/open.js';
import { encodeRange } from '../job/range.js';
import { emptyState, JOB_FILE } from '../job/state.js';
import { pairHash } from './model.js';
import { ChunkJobData, firstIssue, type ChunkJobResult } from './payload.js';
import { readTracks } from './tracks.js';

/** A job no worker can ever run: BullMQ fails it at once instead of trying it again. */
export class MalformedJob extends Error {}

/** The job's data, checked field by field; anything else is refused before it is looked at. */
export function parseChunkJob(raw: unknown): ChunkJobData {
  const parsed = ChunkJobData.safeParse(raw);
  if (!parsed.success) throw new MalformedJob(`malformed chunk job (${firstIssue(parsed.error)})`);
  return parsed.data;
}

/**
 * This worker must see the submitter's OUTDIR, holding that job, and the same input: segments
 * are written there and nowhere else. Without a shared filesystem it refuses rather than write
 * into a folder of its own that nobody reads.
 */
function checkVisible(d: ChunkJobData): void {
  const hint = 'workers need the submitter\'s input and OUTDIR on a shared filesystem, at the same paths';
  let tag: string | undefined;
  try {
    tag = jobTag(JSON.parse(readFileSync(join(d.outdir, JOB_FILE), 'utf8')));
  } catch {
    tag = undefined;
  }
  if (tag !== d.tag) throw new Error(`this worker cannot see the job's output folder ${d.outdir} (no ${JOB_FILE} of job ${d.tag} there): ${hint}`);
  if (!existsSync(d.input) || !statSync(d.input).isFile()) throw new Error(`this worker cannot see the input ${d.input}: ${hint}`);
}

/** The worker's own plan of the job must be the submitter's: same input file, model and options. */
function checkPlan(d: ChunkJobData, plan: JobPlan): void {
  if (plan.tag !== d.tag) throw new Error(`this worker plans job ${plan.tag} from the same options, the submitter ${d.tag}: the input or the model differs here`);
  if (pairHash(plan.pair) !== d.model.hash) throw new Error(`model '${d.model.id}' here differs from the submitter's (another version of its files)`);
  const { index, startFrame, frames } = d.chunk;
  if (startFrame !== index * plan.chunk || frames !== plan.chunk) throw new MalformedJob(`chunk ${index} is frames ${startFrame}+${frames}, the job's chunks are ${plan.chunk} frames`);
}

export interface ChunkRun {
  /** Frames of the chunk done so far. */
  onFrames(n: number): void;
  /**
   * The chunk's own time, without the setup: `encodeMs` from its first frame decoded to its
   * segments in place (decode, rescale, x264, packaging, renames), `skipMs` decoding the input's
   * frames before it.
   */
  onEncoded?(t: { encodeMs: number; skipMs: number }): void;
  /** onnxruntime intra-op threads; every core by default. */
  threads?: number;
  signal?: AbortSignal;
}

/**
 * Runs one chunk job: everything is derived here from the validated options (the ladder, the
 * rendition folders, the work folder), and the segments go into OUTDIR by rename. Returns the
 * chunk's record for the submitter to record.
 */
export async function runChunkJob(raw: unknown, o: ChunkRun): Promise<ChunkJobResult> {
  const d = parseChunkJob(raw);
  checkVisible(d);
  // the loop's settings count only in codec-aware mode, where resolve also accepts them
  const cfg = resolveEncodeConfig({ ...d.config, codecLoop: d.config.codecAware ? d.config.codecLoop : undefined });
  const plan = await planJob(cfg, {}, { ladderFrom: 'outdir' });
  checkPlan(d, plan);
  const sessions = await openSessions(plan, undefined, {}, { flicker: false, threads: o.threads });
  // one folder per attempt: a killed worker's x264 may still be finishing its files
  const work = join(d.outdir, '.work', `chunk-${d.chunk.index}-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    mkdirSync(work, { recursive: true });
    const j = { ...plan, ...sessions, state: emptyState(), out: d.outdir, work };
    const tracks = readTracks(plan);
    tracks.catch(() => undefined); // observed here, thrown where the chunk awaits it
    const t0 = performance.now();
    let t1: number | undefined;
    const r = await encodeRange(j, d.chunk, tracks, o.signal, (n) => {
      t1 ??= performance.now();
      o.onFrames(n);
    });
    const t2 = performance.now();
    o.onEncoded?.({ encodeMs: t2 - (t1 ?? t0), skipMs: (t1 ?? t2) - t0 });
    return { record: r?.record ?? null, info: r?.info ?? {} };
  } finally {
    await closeSessions(sessions);
    rmSync(work, { recursive: true, force: true });
  }
}
