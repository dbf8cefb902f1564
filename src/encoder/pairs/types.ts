import type { PairManifest } from '../../shared/manifest.js';
import type { ModelProto } from '../graph/proto.js';

/**
 * A frozen rescaling pair in canonical form. Both networks take and give NCHW RGB float in 0-1
 * with symbolic spatial dims, input 'x' and output 'y'; the downscaler's output is neither
 * quantized nor clamped (the encoder rounds it to 8 bits as the rendition stores it).
 */
export interface RescalingPair {
  id: string;
  /** Describes the canonical networks (input 'x', output 'y', range '0-1'). */
  manifest: PairManifest;
  /** Folder it was loaded from, if any. */
  dir?: string;
  /** 'x' [1,3,H,W] -> 'y' [1,3,H/s,W/s]. */
  downscaler: ModelProto;
  /** 'x' [1,3,h,w] -> 'y' [1,3,h*s,w*s]: the upscaler of streamed (4:2:0) frames, which the player runs. */
  upscaler: ModelProto;
  /** Same shape, for a lossless RGB LR (PNG stills), where the pair has one (manifest `stillUpscaler`). */
  stillUpscaler?: ModelProto;
}

/**
 * What running a pair's networks needs: a loaded RescalingPair has it, and so does a pair built in
 * memory (HCD's HcdPair, test fixtures).
 */
export interface PairModels {
  manifest: Pick<PairManifest, 'id' | 'scale' | 'extraInputs'>;
  downscaler: ModelProto;
  upscaler: ModelProto;
  stillUpscaler?: ModelProto;
}

/** What the LR is when it reaches the upscaler: decoded video (always 4:2:0) or a lossless RGB image. */
export type LrKind = '420' | 'rgb';

/** The upscaler a pair uses for an LR of this kind. */
export function upscalerFor(pair: Pick<PairModels, 'upscaler' | 'stillUpscaler'>, lr: LrKind): ModelProto {
  return lr === 'rgb' ? (pair.stillUpscaler ?? pair.upscaler) : pair.upscaler;
}
