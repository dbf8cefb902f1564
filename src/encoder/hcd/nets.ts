import { buildGradientModel } from '../graph/autodiff/index.js';
import { createSession, ort, type ExecutionProvider } from '../graph/session.js';
import { encodeModel } from '../graph/proto.js';
import type { PairManifest } from '../../shared/manifest.js';
import { HcdError } from '../../shared/errors.js';
import { addChroma420 } from '../graph/chroma.js';
import { chainModels, quantizeNodes } from './compose.js';
import type { GradFn } from './pgd.js';
import { upscalerFor, type PairModels } from '../pairs/types.js';

/**
 * A rescaling pair as HCD needs it (what resolvePair returns): canonical D (HR -> unquantized
 * LR) and U (LR -> HR), input 'x', output 'y', 0-1 RGB. HCD on RGB ('444') optimizes for the
 * still upscaler where the pair has one.
 */
export interface HcdPair extends PairModels {
  manifest: PairModels['manifest'] & Partial<Pick<PairManifest, 'lrMultiple'>>;
}

/** The four graphs HCD runs, serialized once and shared by every lane's sessions. */
export interface HcdGraphs {
  /** x' -> D -> Q -> U, MSE against `target`, gradient wrt x'. */
  hrGrad: Uint8Array;
  /** y' -> U, MSE against `target`, gradient wrt y'. */
  lrGrad: Uint8Array;
  down: Uint8Array;
  up: Uint8Array;
}

/**
 * chroma '420' puts the 4:2:0 round trip of the streamed frame (addChroma420) in front of U in
 * both stages, so that HCD optimizes what the viewer's upscaler gets rather than RGB detail that
 * the conversion to 4:2:0 averages away. The LR must then have even sides. '444' is a lossless
 * RGB LR (a PNG still): its U is the pair's still upscaler where it has one.
 */
export function buildHcdGraphs(pair: HcdPair, chroma: '420' | '444' = '444'): HcdGraphs {
  if (pair.manifest.extraInputs.length) {
    throw new HcdError(`pair '${pair.manifest.id}' has extra inputs (${pair.manifest.extraInputs.map((e) => e.name).join(', ')}); HCD supports only single-input networks`);
  }
  const d = pair.downscaler;
  const u = upscalerFor(pair, chroma === '420' ? '420' : 'rgb');
  const hr = chainModels(
    [
      { model: d, prefix: 'd/' },
      { model: u, prefix: 'u/' },
    ],
    [chroma === '420' ? (b, v) => addChroma420(b, quantizeNodes(b, v)) : quantizeNodes],
  );
  const lr = chainModels([{ model: u, prefix: 'u/' }], [], 'x', 'out', chroma === '420' ? addChroma420 : undefined);
  const loss = { kind: 'mse' as const, output: 'out', target: 'target' as const };
  return {
    hrGrad: encodeModel(buildGradientModel(hr, { wrt: ['x'], loss })),
    lrGrad: encodeModel(buildGradientModel(lr, { wrt: ['x'], loss })),
    down: encodeModel(chainModels([{ model: d, prefix: 'd/' }], [])),
    up: encodeModel(chainModels([{ model: u, prefix: 'u/' }], [])),
  };
}

/** Names used by every graph above. */
export const IO = { input: 'x', output: 'out', target: 'target', loss: 'loss', grad: 'grad_x' } as const;

/**
 * One set of sessions. Several lanes with one thread each can optimize tiles side by side;
 * one lane with every thread is better for a single big image.
 */
export class Lane {
  private constructor(
    private readonly hrGrad: ort.InferenceSession,
    private readonly lrGrad: ort.InferenceSession,
    private readonly down: ort.InferenceSession,
    private readonly up: ort.InferenceSession,
  ) {}

  static async create(g: HcdGraphs, opts: { threads?: number; ep?: ExecutionProvider }): Promise<Lane> {
    const s = (b: Uint8Array) => createSession(b, { threads: opts.threads, ep: opts.ep });
    return new Lane(await s(g.hrGrad), await s(g.lrGrad), await s(g.down), await s(g.up));
  }

  /** Gradient function of one stage against a fixed HR target; input dims are [1,3,h,w]. */
  gradFn(stage: 'hr' | 'lr', target: Float32Array, targetH: number, targetW: number, h: number, w: number): GradFn {
    const session = stage === 'hr' ? this.hrGrad : this.lrGrad;
    const t = new ort.Tensor('float32', target, [1, 3, targetH, targetW]);
    const dims = [1, 3, h, w];
    return async (input, grad) => {
      const out = await session.run({ [IO.input]: new ort.Tensor('float32', input, dims), [IO.target]: t });
      grad.set(out[IO.grad].data as Float32Array);
      const loss = (out[IO.loss].data as Float32Array)[0];
      for (const v of Object.values(out)) v.dispose();
      return loss;
    };
  }

  /** Runs D (unquantized output) or U on a planar [1,3,h,w] image. */
  async forward(which: 'down' | 'up', input: Float32Array, h: number, w: number): Promise<{ data: Float32Array; h: number; w: number }> {
    const session = which === 'down' ? this.down : this.up;
    const out = await session.run({ [IO.input]: new ort.Tensor('float32', input, [1, 3, h, w]) });
    const y = out[IO.output];
    const data = (y.data as Float32Array).slice();
    const [, , oh, ow] = y.dims;
    y.dispose();
    return { data, h: oh, w: ow };
  }

  async release(): Promise<void> {
    await Promise.all([this.hrGrad, this.lrGrad, this.down, this.up].map((s) => s.release()));
  }
}

