import { YUV709_TO_RGB } from '../media/colour.js';
import { readFrames } from '../media/decode.js';
import { fileArg, rawRgbInput } from '../media/ffmpeg.js';
import { measure, type QualityScores, type VmafModel } from '../media/quality.js';
import { conventionalScale } from '../media/x264.js';
import type { PairNetwork } from '../pairs/network.js';
import type { Candidate, Size } from './candidates.js';

async function* upscaled(up: PairNetwork, file: string, lr: Size): AsyncGenerator<Uint8Array> {
  for await (const data of readFrames(file, { ...lr })) yield (await up.runRgb({ ...lr, data })).data;
}

export interface Shown {
  /** The reference the rung is measured against, and the filter that makes it displayed RGB. */
  reference: string;
  referenceInput?: string[];
  referenceFilter?: string;
  referenceMeasured?: boolean;
  /** The display size (the source's) and rate. */
  hr: Size;
  rate: string;
  /** The pair's upscaler, for 'lr' rungs. */
  up?: PairNetwork;
  vmaf?: VmafModel;
  /** false: PSNR (and VMAF) only, as the probe chooses by them. */
  ssim?: boolean;
  threads?: number;
  /** A niceness for its ffmpeg (RunOptions.priority). */
  priority?: number;
}

/**
 * An encoded rung's quality as a viewer sees it, at the source size: the source as decoded, a
 * conventional downscale upscaled bicubic (conventionalScale), the pair's LR frame upscaled by
 * the pair's upscaler as the player runs it.
 */
export async function measureShown(kind: Candidate['kind'], file: string, lr: Size, o: Shown): Promise<QualityScores> {
  const common = { reference: o.reference, referenceInput: o.referenceInput, referenceFilter: o.referenceFilter, referenceMeasured: o.referenceMeasured, vmaf: o.vmaf, ssim: o.ssim, threads: o.threads ?? 2, priority: o.priority };
  if (kind === 'lr') {
    if (!o.up) throw new Error('an LR rung is measured with the pair\'s upscaler, and none was given');
    return measure({ ...common, distortedInput: rawRgbInput(o.hr.width, o.hr.height, o.rate), frames: upscaled(o.up, file, lr) });
  }
  const filter = kind === 'down' ? `${conventionalScale(o.hr.width, o.hr.height)},${YUV709_TO_RGB}` : YUV709_TO_RGB;
  return measure({ ...common, distortedInput: ['-i', fileArg(file)], distortedFilter: filter });
}
