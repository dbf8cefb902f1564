import { z } from 'zod';
import { HcdError } from './errors.js';

/**
 * Manifests of rescaling pairs and of the upscaler the player runs. Both sides validate them
 * with these schemas, so a bad manifest is a clear error on either side, never a silent mismatch.
 *
 * Tensor convention everywhere: NCHW, RGB, float. `range` says whether the network's own values
 * are 0-1 or 0-255; the project's loaders wrap 0-255 networks so that the rest of the code only
 * ever sees 0-1.
 */
export const ValueRange = z.enum(['0-1', '0-255']);
export type ValueRange = z.infer<typeof ValueRange>;

export const NetworkInfo = z.object({
  /** File name inside the pair folder. */
  file: z.string().min(1),
  input: z.string().min(1),
  output: z.string().min(1),
  range: ValueRange,
  params: z.number().int().nonnegative(),
  /** Multiply-accumulates per output pixel (per HR pixel for U, per LR pixel for D). */
  macsPerPixel: z.number().nonnegative(),
  /** Whether the graph clamps its output to the value range. */
  clampsOutput: z.boolean().default(false),
});
export type NetworkInfo = z.infer<typeof NetworkInfo>;

/** An extra input such as IRN's latent z, and how to fill it. */
export const ExtraInput = z.object({
  network: z.enum(['downscaler', 'upscaler']),
  name: z.string().min(1),
  fill: z.enum(['zeros', 'gaussian']),
  /** Channels of the extra input; its spatial size is that of the network's main input. */
  channels: z.number().int().positive(),
});

export const PairManifest = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, ".", "_" and "-"'),
  description: z.string().default(''),
  scale: z.number().int().min(2).max(8),
  layout: z.literal('NCHW'),
  channels: z.literal('RGB'),
  /** The colour space the pair works in, and the YUV matrix and range frames are converted with. */
  colorSpace: z.enum(['srgb-bt709-limited', 'srgb']).default('srgb-bt709-limited'),
  /** 8-bit rounding between D and U, as the LR rendition is stored. */
  quantization: z.object({ between: z.literal('downscaler-upscaler'), bits: z.literal(8) }).default({ between: 'downscaler-upscaler', bits: 8 }),
  /** The smallest LR side the networks accept (receptive field, tiling). */
  minLrSize: z.number().int().positive().default(8),
  /** LR sides must be a multiple of this (2 for a D that works on 2x2 LR blocks, see hcd train --still-stage). */
  lrMultiple: z.number().int().positive().default(1),
  downscaler: NetworkInfo,
  /** The upscaler of streamed frames: what the player runs on decoded (4:2:0) video. */
  upscaler: NetworkInfo,
  /**
   * A second upscaler for lossless RGB LR (PNG stills), for pairs whose D also hides detail where
   * only an RGB LR keeps it. Absent: `upscaler` serves both.
   */
  stillUpscaler: NetworkInfo.optional(),
  extraInputs: z.array(ExtraInput).default([]),
  /** Free-form provenance: recipe, training data, seed, licence, measured metrics. */
  provenance: z.record(z.string(), z.unknown()).default({}),
});
export type PairManifest = z.infer<typeof PairManifest>;

/**
 * What the master playlist's session data points to: the upscaler alone, as served next to the
 * renditions. The player needs nothing else.
 */
export const UpscalerManifest = z.object({
  id: z.string().min(1),
  scale: z.number().int().min(2).max(8),
  /** URL of the ONNX file, relative to this manifest. */
  model: z.string().min(1),
  input: z.string().min(1),
  output: z.string().min(1),
  range: ValueRange,
  /** How the encoder turned the decoded YUV into the RGB it optimized for; the player must match. */
  colour: z.literal('bt709-limited'),
  params: z.number().int().nonnegative(),
  macsPerPixel: z.number().nonnegative(),
  /** Pixels of context each output pixel depends on, for overlapping tiles without seams. */
  receptiveRadius: z.number().int().nonnegative().default(8),
});
export type UpscalerManifest = z.infer<typeof UpscalerManifest>;

/** Parses with zod and turns its report into one readable line (an HcdError). */
export function parseManifest<T extends z.ZodTypeAny>(schema: T, value: unknown, what: string): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new HcdError(`invalid ${what}: ${first.path.map(String).join('.') || '(root)'}: ${first.message}`);
  }
  return r.data;
}
