import type { PairManifest } from '../../shared/manifest.js';
import { ort } from '../graph/session.js';

export type ExtraInput = PairManifest['extraInputs'][number];

/**
 * Seeded normals for 'gaussian' extra inputs, so that a pair with a noise input gives the same
 * frames on every run. Its own small generator: the values are part of every output such a pair
 * has produced.
 */
function gaussian(n: number, seed: number): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(next()));
    const t = 2 * Math.PI * next();
    out[i] = r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

/** The extra inputs' tensors for a main input of w x h: zeros, or normals seeded by the frame index. */
export function extraFeeds(extras: readonly ExtraInput[], w: number, h: number, index: number): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const x of extras) {
    const n = x.channels * h * w;
    feeds[x.name] = new ort.Tensor('float32', x.fill === 'zeros' ? new Float32Array(n) : gaussian(n, index + 1), [1, x.channels, h, w]);
  }
  return feeds;
}
