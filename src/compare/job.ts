/**
 * `hcd compare INPUT` as one library call: what to compare (a video, or an encode output folder
 * that supplies its input, duration, pair and HCD settings), the pipelines, and a report folder
 * that is either complete or absent.
 */
import { existsSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { resolveCompareConfig, type CompareConfig, type CompareInput } from '../config.js';
import { checkOutputFolder, makeFolder } from '../encoder/media/files.js';
import { HcdError } from '../shared/errors.js';
import { encodePipelines, isFolder, resolveEncodeFolder, type EncodeFolder } from './folder.js';
import { checkHull, resolvePipelines } from './pipelines.js';
import { runCompare } from './run.js';
import type { CompareReport, Pipeline } from './types.js';
import { resolveVmaf } from '../encoder/media/vmaf.js';

export interface CompareJob extends CompareInput {
  /** A video, or a folder `hcd encode` wrote. */
  input: string;
  /** Report folder; optional for an encode output folder (then FOLDER/compare). */
  output?: string;
  seconds?: number;
  model?: string;
  /** x4 pair for C4. */
  model4?: string;
  /** VMAF model file; default HCD_VMAF_MODEL, else libvmaf's built-in model where it has one. */
  vmafModel?: string;
  cropKbps?: number;
  log?: (line: string) => void;
}

interface Target {
  input: string;
  output: string;
  seconds?: number;
  model?: string;
  cfg: CompareConfig;
  folder?: EncodeFolder;
}

/** Fields given win; an encode output folder fills in the rest of what describes its encode. */
function resolveTarget(j: CompareJob): Target {
  const folder = isFolder(j.input) ? resolveEncodeFolder(j.input) : undefined;
  if (!folder && (!existsSync(j.input) || !statSync(j.input).isFile())) throw new HcdError(`no such input file: ${j.input}`);
  const output = j.output ?? folder?.reportDir;
  if (output === undefined) throw new HcdError('-o DIR is required when INPUT is a video (it is optional only for an hcd encode output folder, whose report goes to FOLDER/compare)');
  const cfg = resolveCompareConfig({
    ...j,
    pipelines: j.pipelines ?? (folder ? encodePipelines(folder) : undefined),
    scale: j.scale ?? folder?.scale,
    hcdIters: j.hcdIters ?? folder?.hcdIters,
    codecLoop: j.codecLoop ?? folder?.codecLoop,
  });
  return { input: folder?.input ?? j.input, output, seconds: j.seconds ?? folder?.seconds, model: j.model ?? folder?.model, cfg, folder };
}

async function pipelinesFor(t: Target, j: CompareJob): Promise<Pipeline[]> {
  const { cfg } = t;
  try {
    return await resolvePipelines(cfg.pipelines, { scale: cfg.scale, model: t.model, model4: j.model4, hcdIters: cfg.hcdIters, codecLoop: cfg.codecLoop, threads: cfg.threads, log: j.log });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    // a pair given by path at encode time is recorded by its id, which may not resolve now
    const hint = t.folder && j.model === undefined && /model/.test(msg) && !/C4|--model4/.test(msg) ? ` (the pair recorded in ${j.input}/job.json; pass --model to choose one)` : '';
    throw e instanceof HcdError && !hint ? e : new HcdError(`${msg}${hint}`);
  }
}

export async function compareJob(j: CompareJob): Promise<CompareReport> {
  const t = resolveTarget(j);
  checkOutputFolder(t.output);
  checkHull(t.cfg.hull);
  const vmaf = await resolveVmaf(j.vmafModel);
  j.log?.(vmaf.model ? `VMAF with ${vmaf.report.model} (libvmaf ${vmaf.report.libvmaf ?? '?'})` : `VMAF not measured: ${vmaf.report.reason}`);
  if (t.folder) {
    const f = t.folder;
    j.log?.(`encode output ${j.input}: input ${t.input}${t.seconds !== undefined ? `, ${t.seconds} s` : ''}, model ${f.model} x${f.scale}${f.hcdIters ? `, HCD ${f.hcdIters.join(',')} iters` : ''}; pipelines ${t.cfg.pipelines.join(',')}; report to ${t.output}`);
  }
  const pipelines = await pipelinesFor(t, j);
  const created = !existsSync(t.output);
  makeFolder(t.output);
  const { cfg } = t;
  try {
    return await runCompare({ input: t.input, outDir: t.output, seconds: t.seconds, start: cfg.start, crfs: cfg.crfs, hullCrfs: cfg.hullCrfs, hull: cfg.hull, pipelines, preset: cfg.preset, threads: cfg.threads, vmaf, cropKbps: j.cropKbps, log: j.log });
  } catch (e) {
    // a failed run leaves no trace: runCompare cleans its work folder, we remove a folder we made
    if (created && existsSync(t.output) && readdirSync(t.output).length === 0) rmdirSync(t.output);
    throw e;
  }
}
