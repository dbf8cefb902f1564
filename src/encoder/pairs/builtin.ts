import type { NetworkInfo, PairManifest } from '../../shared/manifest.js';
import type { ModelProto } from '../graph/proto.js';
import { bicubicDownModel, bicubicUpModel } from './bicubic.js';
import { modelStats } from './stats.js';
import type { RescalingPair } from './types.js';

/** Size the per-pixel figures are measured at (they do not depend on it for these graphs). */
const STATS_LR = 64;

export function networkInfo(
  model: ModelProto,
  role: 'downscaler' | 'upscaler',
  scale: number,
  opts: { clampsOutput?: boolean } = {},
): NetworkInfo {
  const lr = STATS_LR;
  const hr = lr * scale;
  const inHW: [number, number] = role === 'downscaler' ? [hr, hr] : [lr, lr];
  const { params, macs } = modelStats(model, inHW);
  // per LR pixel for D, per HR pixel for U (manifest convention)
  const perPixel = role === 'downscaler' ? macs / (lr * lr) : macs / (hr * hr);
  return {
    file: `${role}.onnx`,
    input: 'x',
    output: 'y',
    range: '0-1',
    params,
    macsPerPixel: Math.round(perPixel * 100) / 100,
    clampsOutput: opts.clampsOutput ?? false,
  };
}

export function pairManifest(fields: {
  id: string;
  description: string;
  scale: number;
  downscaler: NetworkInfo;
  upscaler: NetworkInfo;
  minLrSize: number;
  lrMultiple?: number;
  provenance: Record<string, unknown>;
}): PairManifest {
  return {
    ...fields,
    lrMultiple: fields.lrMultiple ?? 1,
    layout: 'NCHW',
    channels: 'RGB',
    colorSpace: 'srgb-bt709-limited',
    quantization: { between: 'downscaler-upscaler', bits: 8 },
    extraInputs: [],
  };
}

export function bicubicPair(scale: number): RescalingPair {
  const downscaler = bicubicDownModel(scale);
  const upscaler = bicubicUpModel(scale);
  const id = `bicubic-x${scale}`;
  return {
    id,
    downscaler,
    upscaler,
    manifest: pairManifest({
      id,
      description: `Bicubic x${scale}: MATLAB-style antialiased bicubic down, bicubic up (fixed convolutions, no learned weights)`,
      scale,
      downscaler: networkInfo(downscaler, 'downscaler', scale),
      upscaler: networkInfo(upscaler, 'upscaler', scale),
      // reflect padding needs more pixels than the pad: 3s/2 on the HR side, 2 on the LR side
      minLrSize: 4,
      provenance: {
        recipe: 'fixed bicubic filters (Keys a=-0.5), see src/encoder/pairs/bicubic.ts',
        learned: false,
        note: 'params counts the fixed filter taps; borders use reflect padding where MATLAB uses symmetric',
      },
    }),
  };
}
