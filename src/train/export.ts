import { GraphBuilder } from '../encoder/graph/builder.js';
import type { ModelProto } from '../encoder/graph/proto.js';
import { networkInfo, pairManifest } from '../encoder/pairs/builtin.js';
import { modelStats } from '../encoder/pairs/stats.js';
import { STILL_FILE } from '../encoder/pairs/folder.js';
import type { RescalingPair } from '../encoder/pairs/types.js';
import { addDownscaler, addUpscaler, type PairArch, type UpHead } from './nets.js';
import type { Params } from './params.js';

/** The shipped D: canonical 'x' [1,3,H,W] -> 'y' [1,3,H/s,W/s], unclamped (the encoder rounds). */
export function downscalerModel(p: Params, arch: PairArch): ModelProto {
  const g = new GraphBuilder(`hcd_down_x${arch.scale}`);
  const x = g.input('x', [1, 3, 'H', 'W']);
  addDownscaler(g, p, arch, x, 'y');
  g.output('y', [1, 3, 'h', 'w']);
  return g.toModel({ docString: `hcd-stream learned downscaler x${arch.scale}` });
}

/** The shipped U (or still head): canonical 'x' [1,3,h,w] -> 'y' [1,3,h*s,w*s], clamped to 0-1. */
export function upscalerModel(p: Params, arch: PairArch, head: UpHead = 'up'): ModelProto {
  const g = new GraphBuilder(`hcd_${head}_x${arch.scale}`);
  const x = g.input('x', [1, 3, 'h', 'w']);
  const y = addUpscaler(g, p, arch, x, undefined, head);
  g.op('Clip', [y, g.constF([0], [], 'zero'), g.constF([1], [], 'one')], {}, 'y');
  g.output('y', [1, 3, 'H', 'W']);
  return g.toModel({ docString: `hcd-stream learned ${head === 'still' ? 'still-image (lossless RGB LR) ' : ''}upscaler x${arch.scale}` });
}

/**
 * U as a stream runs it: 'x' [1,3,h,w] -> 'y' [1,3,h*s,w*s] clamped to 0-1; a recurrent U also
 * takes 'prev' [1,3,H,W], its own previous 'state' (the unclamped output, as training fed it;
 * zeros after a reset).
 */
export function streamUpscalerModel(p: Params, arch: PairArch, recurrent: boolean): ModelProto {
  if (!recurrent) return upscalerModel(p, arch);
  const g = new GraphBuilder(`hcd_up_recurrent_x${arch.scale}`);
  const y = addUpscaler(g, p, arch, g.input('x', [1, 3, 'h', 'w']), 'state', 'up', g.input('prev', [1, 3, 'H', 'W']));
  g.op('Clip', [y, g.constF([0], [], 'zero'), g.constF([1], [], 'one')], {}, 'y');
  g.output('y', [1, 3, 'H', 'W']);
  g.output('state', [1, 3, 'H', 'W']);
  return g.toModel({ docString: `hcd-stream recurrent upscaler x${arch.scale}` });
}

/** Multiply-accumulates of U per 1920x1080 output frame, in GMAC. */
export function upscalerGmac1080p(u: ModelProto, scale: number): number {
  const { macs } = modelStats(u, [Math.round(1080 / scale), Math.round(1920 / scale)]);
  return macs / 1e9;
}

export function exportPair(p: Params, arch: PairArch, id: string, provenance: Record<string, unknown>): RescalingPair {
  const downscaler = downscalerModel(p, arch);
  const upscaler = upscalerModel(p, arch);
  const s = arch.scale;
  const up = networkInfo(upscaler, 'upscaler', s, { clampsOutput: true });
  const down = networkInfo(downscaler, 'downscaler', s);
  const stillUpscaler = arch.stillHead ? upscalerModel(p, arch, 'still') : undefined;
  const still = stillUpscaler ? { ...networkInfo(stillUpscaler, 'upscaler', s, { clampsOutput: true }), file: STILL_FILE } : undefined;
  return {
    id,
    downscaler,
    upscaler,
    ...(stillUpscaler ? { stillUpscaler } : {}),
    manifest: {
      ...pairManifest({
        id,
        description: `hcd-stream codec-robust learned pair x${s}: ${down.params}-parameter downscaler, ${up.params}-parameter upscaler${still ? ` (streamed frames) and ${still.params}-parameter still upscaler (lossless RGB LR)` : ''}`,
        scale: s,
        downscaler: down,
        upscaler: up,
        minLrSize: 8,
        ...(arch.hideChannels ? { lrMultiple: 2 } : {}),
        provenance: {
          ...provenance,
          arch,
          upscalerGmacPer1080pFrame: Math.round(upscalerGmac1080p(upscaler, s) * 1000) / 1000,
        },
      }),
      ...(still ? { stillUpscaler: still } : {}),
    },
  };
}
