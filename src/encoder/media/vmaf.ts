/**
 * Which VMAF model a comparison uses, and what the report says about it: --vmaf-model, else
 * HCD_VMAF_MODEL, else the model built into libvmaf 2.x when the ffmpeg in use has one, else
 * none (VMAF is then reported as unavailable, never estimated). A model is loaded once before any
 * encoding, so one that libvmaf cannot read is a one-line error, not a failure halfway through.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { HcdError } from '../../shared/errors.js';
import { ffmpegPath } from './ffmpeg.js';
import { checkVmafModel, libvmafApi, type VmafModel } from './quality.js';

/** What a report says of the VMAF it measured, or why it did not. */
export interface VmafReport {
  available: boolean;
  /** Why VMAF was not measured. */
  reason?: string;
  /** The model file, or the built-in model's name. */
  model?: string;
  /** Where the model came from: --vmaf-model, HCD_VMAF_MODEL or libvmaf built-in. */
  model_from?: string;
  /** libvmaf's version, from its log. */
  libvmaf?: string;
  /** How the per-frame scores are pooled into vmaf and vmaf_p5. */
  pooling?: string;
}

export const VMAF_ENV = 'HCD_VMAF_MODEL';
const BUILTIN = 'vmaf_v0.6.1';
const POOLING = 'vmaf: mean over frames of libvmaf\'s per-frame scores; vmaf_p5: their 5th percentile (linear interpolation between order statistics)';

export interface VmafChoice {
  /** What measure() runs; undefined when VMAF is not measured. */
  model?: VmafModel;
  report: VmafReport;
}

export const VMAF_NOT_GIVEN: VmafChoice = { report: { available: false, reason: `no VMAF model given (--vmaf-model FILE or ${VMAF_ENV})` } };

function givenFile(flag: string | undefined, env: NodeJS.ProcessEnv): { file: string; from: string } | undefined {
  if (flag) return { file: flag, from: '--vmaf-model' };
  const e = env[VMAF_ENV];
  return e ? { file: e, from: VMAF_ENV } : undefined;
}

export async function resolveVmaf(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<VmafChoice> {
  const given = givenFile(flag, env);
  if (given && !(existsSync(given.file) && statSync(given.file).isFile())) throw new HcdError(`no such VMAF model: ${given.file}${given.from === VMAF_ENV ? ` (from ${VMAF_ENV})` : ''}`);
  const api = await libvmafApi();
  if (!api) {
    const why = `the ffmpeg at ${ffmpegPath()} has no libvmaf filter`;
    if (given) throw new HcdError(`cannot measure VMAF with ${given.file}: ${why} (set FFMPEG_PATH to one that has)`);
    return { report: { available: false, reason: why } };
  }
  if (!given && api === 'model_path') {
    return { report: { available: false, reason: `the ffmpeg at ${ffmpegPath()} has libvmaf 1.x, which has no built-in model; pass --vmaf-model FILE (a .pkl with FILE.pkl.model beside it) or set ${VMAF_ENV}` } };
  }
  const model: VmafModel = given ? { api, file: resolve(given.file) } : { api, builtin: BUILTIN };
  const version = await checkVmafModel(model);
  const name = model.file ?? `${BUILTIN} (built into libvmaf)`;
  return { model, report: { available: true, model: name, model_from: given?.from ?? 'libvmaf built-in', libvmaf: version, pooling: POOLING } };
}
