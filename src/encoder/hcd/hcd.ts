import { cpus } from 'node:os';
import { HcdError } from '../../shared/errors.js';
import type { ExecutionProvider } from '../graph/session.js';
import { quantize8, type Planar } from '../../shared/image.js';
import { buildHcdGraphs, Lane, type HcdGraphs, type HcdPair } from './nets.js';
import { resolveOptions, type HcdIters, type HcdOptions } from './options.js';
import { PgdBuffers, randomStart, clampToBox, projectBall, runPgd, type IterHook, type PgdOptions } from './pgd.js';
import { deriveSeed, Rng } from '../../shared/rng.js';
import { cropPlanar, makeTiles, pastePlanar, type Tile } from './tiles.js';

export type { Planar };

/** Perturbations of the previous frame, per tile, to start the next frame from (video). */
export interface WarmState {
  hr: Map<number, Float32Array>;
  lr: Map<number, Float32Array>;
}

export interface StageStats {
  /** Mean loss over tiles at each iteration (the first is the start point's). */
  losses: number[];
  modelMs: number;
  jsMs: number;
}

/** One iterate of one tile's stage, for RunOptions.onIter. */
export interface HcdIterEvent {
  /** 'lrOnly' is the ablation's LR stage run from the pair's own LR. */
  stage: 'hr' | 'lr' | 'lrOnly';
  tile: Tile;
  /** 0 is the start point, the stage's iteration count the last iterate. */
  k: number;
  /**
   * The tile with its halo (pw x ph LR pixels, times the scale for 'hr'), planar, 0-1: x + d
   * for 'hr', the unquantized y0 + d' for the LR stages. Reused by the loop: copy to keep.
   */
  iterate: Float32Array;
  /** Loss at this iterate when the loop evaluated it (see IterHook). */
  loss: number | undefined;
}

export interface HcdResult {
  /** Q(D(x)): the pair's own LR (absent only with `skipBase`). */
  lrBase?: Planar;
  /** Q(D(x + d)) after the HR stage alone (when run). */
  lrHr?: Planar;
  /** The LR stage applied to lrBase alone (when asked for). */
  lrLrOnly?: Planar;
  /** The collaborative LR (8-bit values in 0-1). */
  lr: Planar;
  /** PSNR of `lr` against `lrBase`, dB (Infinity when equal, NaN without lrBase). */
  lrPsnr: number;
  /** Fraction of the LR change kept to meet minLrPsnr (1 when no bound or already met). */
  lrKept: number;
  hr: StageStats;
  lrStage: StageStats;
  seconds: number;
}

export interface RunOptions {
  /**
   * Skip Q(D(x)) when nothing needs it (the HR stage runs, no LR-only ablation, no LR bound):
   * `lrBase` is then absent and `lrPsnr` NaN. For video, where nobody reads them per frame.
   */
  skipBase?: boolean;
  /** Which stages make `lr`: both (default), 'hr' only, 'lr' only, or none (the pair). */
  stages?: 'both' | 'hr' | 'lr' | 'none';
  /** Also run the LR stage from lrBase and return lrLrOnly (ablation). */
  lrOnlyToo?: boolean;
  /** Start from these perturbations instead of random ones, and store the new ones in it. */
  warm?: WarmState;
  /** Iterations for this call, overriding the options (warm-started video frames need fewer). */
  iters?: HcdIters;
  /** Called at every iterate of every tile's stage (bench/hcd-curve.ts); awaited, and not timed. */
  onIter?: (e: HcdIterEvent) => void | Promise<void>;
}

export function psnr01(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return s === 0 ? Infinity : 10 * Math.log10(a.length / s);
}

/** Budgets are set per 128x128 LR tile; a region of another size gets the same budget per pixel. */
function scaledFor(o: HcdOptions, lrPixels: number, iters: number): PgdOptions {
  const k = Math.sqrt(lrPixels / (128 * 128));
  const l2 = o.rule !== 'linf';
  return { iters, rule: o.rule, eps: l2 ? o.eps * k : o.eps, alpha: o.rule === 'l2' ? o.alpha * k : o.alpha, schedule: o.schedule, keepBest: o.keepBest };
}

/**
 * Hierarchical Collaborative Downscaling with a frozen pair: the HR stage moves the HR image
 * (inside a small ball) so that U(Q(D(x'))) gets closer to x; the LR stage then moves the LR
 * itself so that U(y') gets closer to x; the result is stored 8-bit.
 */
export class Hcd {
  private readonly buffers = new Map<string, PgdBuffers>();

  private constructor(
    readonly pair: HcdPair,
    readonly options: HcdOptions,
    private readonly lanes: Lane[],
  ) {}

  get scale(): number {
    return this.pair.manifest.scale;
  }

  static async create(pair: HcdPair, opts: Partial<HcdOptions> = {}, ep?: ExecutionProvider, graphs?: HcdGraphs): Promise<Hcd> {
    const o = resolveOptions(opts);
    const g = graphs ?? buildHcdGraphs(pair, o.chroma);
    const threads = o.threads ?? Math.max(1, Math.floor(cpus().length / o.lanes));
    const lanes: Lane[] = [];
    for (let i = 0; i < o.lanes; i++) lanes.push(await Lane.create(g, { threads, ep }));
    return new Hcd(pair, o, lanes);
  }

  async close(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.release()));
  }

  /** Q(D(x)) on the whole image. */
  async downscale(hr: Planar): Promise<Planar> {
    const y = await this.lanes[0].forward('down', hr.data, hr.height, hr.width);
    return { data: quantize8(y.data), width: y.w, height: y.h };
  }

  /** U(y) on the whole image, as the client would run it (with chroma '444', the pair's still upscaler where it has one). */
  async upscale(lr: Planar): Promise<Planar> {
    const y = await this.lanes[0].forward('up', lr.data, lr.height, lr.width);
    return { data: y.data, width: y.w, height: y.h };
  }

  private buffer(lane: number, stage: string, size: number): PgdBuffers {
    const key = `${lane}/${stage}/${size}`;
    let b = this.buffers.get(key);
    if (!b) this.buffers.set(key, (b = new PgdBuffers(size)));
    return b;
  }

  /** HR must be a multiple of the scale on both sides. */
  async run(hr: Planar, ro: RunOptions = {}): Promise<HcdResult> {
    const t0 = performance.now();
    const o = this.options;
    const s = this.scale;
    const stages = ro.stages ?? 'both';
    const doHr = stages === 'both' || stages === 'hr';
    const doLr = stages === 'both' || stages === 'lr';
    const [hrIters, lrIters] = ro.iters ?? o.iters;
    const W = hr.width / s;
    const H = hr.height / s;
    if (!Number.isInteger(W) || !Number.isInteger(H)) throw new Error(`HR size ${hr.width}x${hr.height} is not a multiple of the scale ${s}`);

    // Q(D(x)) is the start of tiles without an HR stage and the reference of lrPsnr and the LR
    // bound; a video frame with an HR stage everywhere needs none of that, and it costs a whole
    // downscaler pass (about a sixth of a 1+2-iteration frame)
    const needBase = !ro.skipBase || !(doHr && hrIters > 0) || !!ro.lrOnlyToo || o.minLrPsnr !== undefined;
    const n = 3 * W * H;
    const lrBase = needBase ? await this.downscale(hr) : undefined;
    if (lrBase && (lrBase.width !== W || lrBase.height !== H)) throw new Error(`downscaler gave ${lrBase.width}x${lrBase.height}, expected ${W}x${H}`);
    const lrHr = doHr ? new Float32Array(n) : undefined;
    // every tile pastes its result, so without a base the canvas may start empty
    const lrOut = lrBase ? new Float32Array(lrBase.data) : new Float32Array(n);
    const lrOnly = ro.lrOnlyToo ? new Float32Array(n) : undefined;
    const hrStats: StageStats = { losses: [], modelMs: 0, jsMs: 0 };
    const lrStats: StageStats = { losses: [], modelMs: 0, jsMs: 0 };
    const addTrace = (st: StageStats, losses: number[], m: number, j: number, tiles: number) => {
      losses.forEach((l, i) => (st.losses[i] = (st.losses[i] ?? 0) + l / tiles));
      st.modelMs += m;
      st.jsMs += j;
    };

    const tiles = makeTiles(W, H, o.tile, o.halo);
    const even = (t: Tile) => t.pw % 2 === 0 && t.ph % 2 === 0 && t.px % 2 === 0 && t.py % 2 === 0;
    if (o.chroma === '420' && tiles.some((t) => t.pw % 2 || t.ph % 2))
      throw new HcdError(`chroma 420 needs even LR tiles, and the LR is ${W}x${H}: crop the HR to a multiple of ${2 * s}`);
    // a D that works on 2x2 LR blocks (a still stage's hiding branch) must see them where the whole image has them
    if ((this.pair.manifest.lrMultiple ?? 1) > 1 && !tiles.every(even))
      throw new HcdError(`pair '${this.pair.manifest.id}' needs even LR sides and tiles, and the LR is ${W}x${H} (tile ${o.tile}, halo ${o.halo}): crop the HR to a multiple of ${2 * s}`);
    const hook = (stage: HcdIterEvent['stage'], tile: Tile): IterHook | undefined => {
      const f = ro.onIter;
      return f && ((k, iterate, loss) => f({ stage, tile, k, iterate, loss }));
    };
    const work = async (lane: number, t: Tile) => {
      const L = this.lanes[lane];
      const hrTile = cropPlanar(hr.data, hr.width, hr.height, t.px * s, t.py * s, t.pw * s, t.ph * s);
      // absent only with skipBase, where the HR stage runs on every tile and sets y0
      const baseTile = lrBase && cropPlanar(lrBase.data, W, H, t.px, t.py, t.pw, t.ph);
      let y0 = baseTile!;
      if (doHr && hrIters > 0) {
        const po = scaledFor(o, t.pw * t.ph, hrIters);
        const buf = this.buffer(lane, 'hr', hrTile.length);
        const d = this.start(ro.warm?.hr.get(t.index), hrTile, po, deriveSeed(o.seed, t.index, 1));
        const fn = L.gradFn('hr', hrTile, t.ph * s, t.pw * s, t.ph * s, t.pw * s);
        const tr = await runPgd(fn, hrTile, d, po, buf, hook('hr', t));
        addTrace(hrStats, tr.losses, tr.modelMs, tr.jsMs, tiles.length);
        ro.warm?.hr.set(t.index, d);
        for (let i = 0; i < d.length; i++) buf.input[i] = hrTile[i] + d[i];
        const y = await L.forward('down', buf.input, t.ph * s, t.pw * s);
        if (y.w !== t.pw || y.h !== t.ph) throw new Error(`downscaler gave ${y.w}x${y.h} for a ${t.pw * s}x${t.ph * s} tile at scale ${s}`);
        y0 = quantize8(y.data);
      }
      if (lrHr) pastePlanar(y0, t.pw, t.ph, t.x - t.px, t.y - t.py, t.w, t.h, lrHr, W, H, t.x, t.y);
      const lrStage = async (base: Float32Array, out: Float32Array, seedPart: number, stage: 'lr' | 'lrOnly', warm?: Map<number, Float32Array>) => {
        const po = scaledFor(o, t.pw * t.ph, lrIters);
        const buf = this.buffer(lane, 'lr', base.length);
        const d = this.start(warm?.get(t.index), base, po, deriveSeed(o.seed, t.index, seedPart));
        const fn = L.gradFn('lr', hrTile, t.ph * s, t.pw * s, t.ph, t.pw);
        const tr = await runPgd(fn, base, d, po, buf, hook(stage, t));
        warm?.set(t.index, d);
        for (let i = 0; i < d.length; i++) buf.input[i] = base[i] + d[i];
        quantize8(buf.input);
        pastePlanar(buf.input, t.pw, t.ph, t.x - t.px, t.y - t.py, t.w, t.h, out, W, H, t.x, t.y);
        return tr;
      };
      if (doLr && lrIters > 0) {
        const tr = await lrStage(y0, lrOut, 2, 'lr', ro.warm?.lr);
        addTrace(lrStats, tr.losses, tr.modelMs, tr.jsMs, tiles.length);
      } else if (doHr) {
        pastePlanar(y0, t.pw, t.ph, t.x - t.px, t.y - t.py, t.w, t.h, lrOut, W, H, t.x, t.y);
      }
      if (lrOnly) {
        if (lrIters > 0) await lrStage(baseTile!, lrOnly, 3, 'lrOnly');
        else pastePlanar(baseTile!, t.pw, t.ph, t.x - t.px, t.y - t.py, t.w, t.h, lrOnly, W, H, t.x, t.y);
      }
    };
    // Each lane takes the next tile when free; results do not depend on which lane ran a tile.
    let next = 0;
    await Promise.all(
      this.lanes.map(async (_, lane) => {
        while (next < tiles.length) await work(lane, tiles[next++]);
      }),
    );

    let lrPsnr = lrBase ? psnr01(lrOut, lrBase.data) : NaN;
    let lrKept = 1;
    if (lrBase && o.minLrPsnr !== undefined && lrPsnr < o.minLrPsnr) {
      ({ psnr: lrPsnr, kept: lrKept } = limitChange(lrOut, lrBase.data, o.minLrPsnr));
    }
    const plane = (data: Float32Array): Planar => ({ data, width: W, height: H });
    return {
      lrBase,
      lrHr: lrHr && plane(lrHr),
      lrLrOnly: lrOnly && plane(lrOnly),
      lr: plane(lrOut),
      lrPsnr,
      lrKept,
      hr: hrStats,
      lrStage: lrStats,
      seconds: (performance.now() - t0) / 1000,
    };
  }

  /** The start point: the previous frame's perturbation when given (kept inside ball and box), else random. */
  private start(prev: Float32Array | undefined, base: Float32Array, po: PgdOptions, seed: number): Float32Array {
    const d = new Float32Array(base.length);
    if (prev && prev.length === d.length) {
      d.set(prev);
      projectBall(d, po.eps, po.rule);
      clampToBox(d, base);
    } else randomStart(d, base, po.eps, po.rule, new Rng(seed, 'mulberry32'));
    return d;
  }
}

/**
 * Scales the LR change back (bisection on the fraction kept) until the LR is at least `minPsnr`
 * dB from the plain LR, since clients without the upscaler watch the LR itself. In place.
 */
export function limitChange(lr: Float32Array, base: Float32Array, minPsnr: number): { psnr: number; kept: number } {
  const full = lr.slice();
  const at = (t: number) => {
    for (let i = 0; i < lr.length; i++) lr[i] = base[i] + t * (full[i] - base[i]);
    quantize8(lr);
    return psnr01(lr, base);
  };
  let lo = 0;
  let hi = 1;
  for (let k = 0; k < 12; k++) {
    const mid = (lo + hi) / 2;
    if (at(mid) >= minPsnr) lo = mid;
    else hi = mid;
  }
  return { psnr: at(lo), kept: lo };
}
