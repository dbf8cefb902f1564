/**
 * Codec-aware HCD: the LR stage with the real codec in the loop (closed loop).
 *
 * Plain HCD optimizes the LR frame for U, but the viewer never sees that frame: x264 quantizes
 * it first, and most of a small perturbation dies there. Here every pass encodes the whole chunk
 * with the rendition's own encoder settings and decodes it back exactly as the player will, takes
 * the loss MSE(U(decoded), x) per frame and steps the pre-codec LR along the gradient at the
 * decoded frame, i.e. straight through the codec. Because a chunk is one closed GOP, the
 * roundtrip is the same encode the rendition ships, so the loss after the codec is the loss the
 * viewer gets. The pass kept is the best in PSNR after the codec, less what its extra bits would
 * have bought (`rateSlope`), so it is never worse than the start at that rendition.
 */
import { buildGradientModel } from '../graph/autodiff/index.js';
import { encodeModel } from '../graph/proto.js';
import { packedToPlanar, planarToPacked } from '../../shared/image.js';
import { createSession, ort, type ExecutionProvider } from '../graph/session.js';
import { chainModels } from './compose.js';
import type { HcdPair } from './nets.js';
import { CODEC_LOOP_DEFAULTS, type CodecLoopOptions } from './options.js';

export { CODEC_LOOP_DEFAULTS, type CodecLoopOptions };

/**
 * Real encode + decode of a chunk of packed RGB8 LR frames, in order, as the viewer decodes
 * them, with the size of the encoded video in bytes.
 */
export type Roundtrip = (frames: Uint8Array[]) => Promise<{ frames: Uint8Array[]; bytes: number }>;


export interface CodecLoopResult {
  frames: Uint8Array[];
  /** Mean MSE (0-1 RGB, after the codec and U) of each roundtrip; [0] is the starting LR's. */
  losses: number[];
  /** Encoded bytes of each roundtrip. */
  bytes: number[];
  /** Index in `losses` of the frames returned. */
  best: number;
}

/** The one graph the loop needs: y -> U, MSE against the HR target, gradient wrt y. */
export function buildLrGradGraph(pair: HcdPair): Uint8Array {
  const lr = chainModels([{ model: pair.upscaler, prefix: 'u/' }], []);
  return encodeModel(buildGradientModel(lr, { wrt: ['x'], loss: { kind: 'mse', output: 'out', target: 'target' } }));
}

export class CodecLoop {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly scale: number,
  ) {}

  static async create(pair: HcdPair, opts: { threads?: number; ep?: ExecutionProvider } = {}): Promise<CodecLoop> {
    const session = await createSession(buildLrGradGraph(pair), { threads: opts.threads, ep: opts.ep });
    return new CodecLoop(session, pair.manifest.scale);
  }

  /**
   * Optimizes `lr0` (packed RGB8 LR frames of `size`) against `hr` (packed RGB8 source frames)
   * through `roundtrip`. `onPass` sees each roundtrip's mean loss.
   */
  async run(
    hr: Uint8Array[],
    lr0: Uint8Array[],
    size: { width: number; height: number },
    roundtrip: Roundtrip,
    opts: Partial<CodecLoopOptions> = {},
    onPass?: (pass: number, loss: number) => void,
  ): Promise<CodecLoopResult> {
    const o = { ...CODEC_LOOP_DEFAULTS, ...opts };
    if (!(o.passes >= 0) || !(o.step > 0) || !(o.radius >= 0) || !(o.rateSlope >= 0)) throw new Error(`bad codec loop options ${JSON.stringify(o)}`);
    if (hr.length !== lr0.length) throw new Error(`codec loop: ${hr.length} HR frames for ${lr0.length} LR frames`);
    const { width: w, height: h } = size;
    const len = 3 * w * h;
    const W = w * this.scale;
    const H = h * this.scale;
    const stepLen = (o.step / 255) * Math.sqrt(len);
    const radiusLen = (o.radius / 255) * Math.sqrt(len);

    const base = lr0.map((f) => packedToPlanar(f, w, h));
    const y = base.map((b) => b.slice());
    let current = lr0;
    let best = { frames: lr0, score: -Infinity, index: 0 };
    const losses: number[] = [];
    const sizes: number[] = [];
    const input = new Float32Array(len);
    const target = new Float32Array(3 * W * H);
    const inputT = new ort.Tensor('float32', input, [1, 3, h, w]);
    const targetT = new ort.Tensor('float32', target, [1, 3, H, W]);

    for (let pass = 0; pass <= o.passes; pass++) {
      const { frames: decoded, bytes } = await roundtrip(current);
      if (decoded.length !== current.length) throw new Error(`codec loop: the roundtrip gave ${decoded.length} frames for ${current.length}`);
      let total = 0;
      const last = pass === o.passes;
      for (let i = 0; i < decoded.length; i++) {
        packedToPlanar(decoded[i], w, h, { out: input });
        packedToPlanar(hr[i], W, H, { out: target });
        const out = await this.session.run({ x: inputT, target: targetT });
        total += (out.loss.data as Float32Array)[0];
        if (!last) this.step(y[i], base[i], out.grad_x.data as Float32Array, stepLen, radiusLen);
        for (const v of Object.values(out)) v.dispose();
      }
      const mean = total / decoded.length;
      losses.push(mean);
      sizes.push(bytes);
      onPass?.(pass, mean);
      const score = -10 * Math.log10(mean) - o.rateSlope * Math.log2(bytes / sizes[0]);
      if (score > best.score) best = { frames: current, score, index: pass };
      if (!last) {
        current = y.map((f) => planarToPacked(f, w, h) as Uint8Array);
      }
    }
    return { frames: best.frames, losses, bytes: sizes, best: best.index };
  }

  /** One normalized gradient step on y, then back into the ball around `base` and the [0, 1] box. */
  private step(y: Float32Array, base: Float32Array, g: Float32Array, stepLen: number, radiusLen: number): void {
    let gn = 0;
    for (let i = 0; i < g.length; i++) gn += g[i] * g[i];
    gn = Math.sqrt(gn);
    if (!(gn > 0)) return;
    const k = stepLen / gn;
    let dn = 0;
    for (let i = 0; i < y.length; i++) {
      y[i] -= k * g[i];
      const d = y[i] - base[i];
      dn += d * d;
    }
    dn = Math.sqrt(dn);
    const shrink = dn > radiusLen ? radiusLen / dn : 1;
    for (let i = 0; i < y.length; i++) {
      const v = base[i] + (y[i] - base[i]) * shrink;
      y[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
