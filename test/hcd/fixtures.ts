import { GraphBuilder, convAttrs, attr } from '../../src/encoder/graph/builder.js';
import type { ModelProto } from '../../src/encoder/graph/proto.js';
import type { RgbImage } from '../../src/shared/image.js';
import type { HcdPair } from '../../src/encoder/hcd/nets.js';
import { Rng } from '../../src/shared/rng.js';

/** A textured test picture: gratings of several frequencies, a soft edge and seeded grain. */
export function texturedImage(width: number, height: number, seed = 1): RgbImage {
  const rng = new Rng(seed, 'mulberry32');
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const g1 = Math.sin(x * 0.9 + y * 0.35);
      const g2 = Math.sin(x * 0.21 - y * 0.6);
      const edge = x + 0.5 * y > width * 0.6 ? 0.25 : -0.25;
      for (let c = 0; c < 3; c++) {
        const v = 0.5 + 0.22 * g1 * (c === 0 ? 1 : 0.6) + 0.15 * g2 * (c === 2 ? 1 : 0.5) + edge + 0.05 * (rng.next() - 0.5);
        data[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v * 255)));
      }
    }
  }
  return { width, height, data };
}

function weights(n: number, rng: Rng, scale: number): number[] {
  return Array.from({ length: n }, () => (rng.next() - 0.5) * 2 * scale);
}

/**
 * A small learned-like x2 pair built by hand: D is a strided 4x4 conv (an averaging kernel with
 * noise, per colour), U a linear 3x3 conv to 12 channels plus a ReLU branch, then DepthToSpace.
 * Not trained, but nonlinear and with cross-channel mixing, unlike bicubic.
 */
export function tinyPair(seed = 3): HcdPair {
  const rng = new Rng(seed, 'mulberry32');
  const d = new GraphBuilder('tiny_down');
  d.input('x', [1, 3, 'H', 'W']);
  const wd: number[] = [];
  for (let o = 0; o < 3; o++) for (let i = 0; i < 3; i++) for (let k = 0; k < 16; k++) wd.push((o === i ? 1 / 16 : 0) + (rng.next() - 0.5) * 0.02);
  d.op('Conv', ['x', d.constF(wd, [3, 3, 4, 4]), d.constF([0, 0, 0], [3])], convAttrs(4, { stride: 2, pad: 1 }), 'y');
  d.output('y', [1, 3, 'h', 'w']);

  const u = new GraphBuilder('tiny_up');
  u.input('x', [1, 3, 'h', 'w']);
  // linear branch: each of the 4 sub-pixel phases starts as the centre value (nearest upsampling)
  const wl: number[] = [];
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < 4; p++) {
      for (let i = 0; i < 3; i++) for (let k = 0; k < 9; k++) wl.push((i === c && k === 4 ? 1 : 0) + (rng.next() - 0.5) * 0.04);
    }
  }
  const lin = u.op('Conv', ['x', u.constF(wl, [12, 3, 3, 3]), u.constF(new Array(12).fill(0), [12])], convAttrs(3));
  const h = u.op('Relu', [u.op('Conv', ['x', u.constF(weights(8 * 27, rng, 0.3), [8, 3, 3, 3]), u.constF(weights(8, rng, 0.1), [8])], convAttrs(3))]);
  const nl = u.op('Conv', [h, u.constF(weights(12 * 72, rng, 0.05), [12, 8, 3, 3]), u.constF(new Array(12).fill(0), [12])], convAttrs(3));
  const sum = u.op('Add', [lin, nl]);
  // channel c*4 + phase: DepthToSpace in CRD mode keeps colour planes apart
  u.op('DepthToSpace', [sum], { blocksize: attr.int(2), mode: attr.string('CRD') }, 'y');
  u.output('y', [1, 3, 'H', 'W']);
  const model = (b: GraphBuilder): ModelProto => b.toModel({ opset: 17 });
  return { manifest: { id: 'tiny-x2', scale: 2, extraInputs: [] }, downscaler: model(d), upscaler: model(u) };
}
