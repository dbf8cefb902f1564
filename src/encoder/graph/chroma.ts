import { BT709 } from '../../shared/yuv.js';
import { attr, convAttrs, type GraphBuilder } from './builder.js';

/**
 * The 4:2:0 round trip every streamed frame takes, as a linear graph stage: RGB (0-1) ->
 * BT.709 Y'CbCr -> Cb and Cr averaged over 2x2 (the encoder keeps one chroma sample per 2x2) ->
 * bilinear x2 back, edges replicated (what a decoder or the browser does) -> RGB.
 *
 * Why it exists: a learned pair trained and optimized on RGB hides detail in colour at full
 * resolution, and 4:2:0 averages it away before the codec even starts. Measured with the
 * encoder's own conversion (ffmpeg, BT.709, full_chroma_int) and no codec, it cost the hcd-x2
 * trained on RGB 1.0 dB of Y-PSNR on Set5 and 1.7 dB on Big Buck Bunny frames, a pair trained
 * further to 38.4 dB lossless 3.2 and 5.2 dB, bicubic nothing. Putting this stage between the
 * LR and U makes D, U and HCD see what the viewer's upscaler gets.
 *
 * Linear, so gradients through it are exact. Height and width must be even.
 */

/** BT.709 luma and colour-difference rows, full range (the limited-range scaling cancels). */
const { KR, KG, KB } = BT709;
const RGB2YCC = [
  [KR, KG, KB],
  [-KR / (2 * (1 - KB)), -KG / (2 * (1 - KB)), 0.5],
  [0.5, -KG / (2 * (1 - KR)), -KB / (2 * (1 - KR))],
];
/** Its inverse, column per input: R = Y + 2(1-KR)Cr, B = Y + 2(1-KB)Cb, G from Y. */
const YCC2RGB = [
  [1, 0, 2 * (1 - KR)],
  [1, (-2 * KB * (1 - KB)) / KG, (-2 * KR * (1 - KR)) / KG],
  [1, 2 * (1 - KB), 0],
];
/** The Cb and Cr rows of RGB2YCC as a [2,3,1,1] conv. */
export const RGB_TO_CBCR = Float32Array.from([...RGB2YCC[1], ...RGB2YCC[2]]);
/** The Cb and Cr columns of YCC2RGB as a [3,2,1,1] conv: colour difference with Y unchanged, in RGB. */
export const CBCR_TO_RGB = Float32Array.from(YCC2RGB.flatMap((row) => [row[1], row[2]]));

export function addChroma420(g: GraphBuilder, x: string, out?: string): string {
  const y = g.op('Conv', [x, g.constF(RGB2YCC[0], [1, 3, 1, 1], 'c420_rgb2y')], convAttrs(1));
  const cc = g.op('Conv', [x, g.constF(RGB_TO_CBCR, [2, 3, 1, 1], 'c420_rgb2c')], convAttrs(1));
  const down = g.op('Conv', [cc, g.constF(new Float32Array(8).fill(0.25), [2, 1, 2, 2], 'c420_box')], convAttrs(2, { stride: 2, pad: 0, group: 2 }));
  const padded = g.op('Pad', [down, g.constI64([0, 0, 1, 1, 0, 0, 1, 1])], { mode: attr.string('edge') });
  // bilinear x2 with centred samples: every output is 3/4 of its nearer and 1/4 of its farther
  // chroma sample; on the padded input, pads 3 line the outputs up with the unpadded grid
  const tap = [0.25, 0.75, 0.75, 0.25];
  const k = new Float32Array(32);
  for (let c = 0; c < 2; c++) for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) k[c * 16 + i * 4 + j] = tap[i] * tap[j];
  const up = g.op('ConvTranspose', [padded, g.constF(k, [2, 1, 4, 4], 'c420_bilinear')], {
    kernel_shape: attr.ints([4, 4]),
    strides: attr.ints([2, 2]),
    pads: attr.ints([3, 3, 3, 3]),
    dilations: attr.ints([1, 1]),
    group: attr.int(2),
  });
  const fromY = g.op('Conv', [y, g.constF(YCC2RGB.map((r) => r[0]), [3, 1, 1, 1], 'c420_y2rgb')], convAttrs(1));
  const fromC = g.op('Conv', [up, g.constF(YCC2RGB.flatMap((r) => [r[1], r[2]]), [3, 2, 1, 1], 'c420_c2rgb')], convAttrs(1));
  return g.op('Add', [fromY, fromC], {}, out);
}
