import type { InferenceSession } from 'onnxruntime-web';
import type { Ort, OrtSession } from './types.js';

/**
 * Sessions with fixed input shapes, one per LR (tile) size the player feeds, made from the same
 * model bytes and options as the base session with `freeDimensionOverrides` for the input's
 * symbolic height and width. With every dimension known when the session is created,
 * onnxruntime can infer all shapes and plan its memory once instead of on every run. A level has
 * one input shape (tiles are planned uniform, src/player/tiling.ts), so a level switch creates at
 * most one session; the few most recent ones are kept.
 */
export class SessionPool {
  private readonly fixed = new Map<string, Promise<OrtSession>>();
  /** The names of the input's symbolic height and width, when the model has them. */
  readonly dims?: { h: string; w: string };

  constructor(
    private readonly ort: Ort,
    private readonly bytes: Uint8Array,
    private readonly options: InferenceSession.SessionOptions,
    readonly base: OrtSession,
    input: string,
    /** How many fixed-shape sessions are kept. */
    readonly max = 3,
  ) {
    const meta = base.inputMetadata?.find((m) => m.name === input);
    const shape = meta?.isTensor ? meta.shape : [];
    const [h, w] = [shape[2], shape[3]];
    if (shape.length === 4 && typeof h === 'string' && typeof w === 'string' && h && w) this.dims = { h, w };
  }

  /** The session for a 1x3x`h`x`w` input: a fixed-shape one when possible, else the base session. */
  async get(w: number, h: number): Promise<{ session: OrtSession; fixed: boolean }> {
    const d = this.dims;
    // one name for both sides would force a square input
    if (!d || (d.h === d.w && w !== h)) return { session: this.base, fixed: false };
    const key = `${w}x${h}`;
    let p = this.fixed.get(key);
    if (p) {
      this.fixed.delete(key); // most recently used last
    } else {
      const overrides = d.h === d.w ? { [d.h]: h } : { [d.h]: h, [d.w]: w };
      // a model that refuses the overrides still runs, with dynamic shapes
      // a copy: the proxy worker takes ownership of (detaches) the bytes it is given
      p = this.ort.InferenceSession.create(this.bytes.slice(), { ...this.options, freeDimensionOverrides: overrides }).catch(() => this.base);
      this.evict();
    }
    this.fixed.set(key, p);
    const session = await p;
    return { session, fixed: session !== this.base };
  }

  /** Releases every session, the base one included. Call when no run is in flight. */
  async release(): Promise<void> {
    const all = [...this.fixed.values()];
    this.fixed.clear();
    const sessions = new Set([this.base, ...(await Promise.all(all))]);
    await Promise.all([...sessions].map((s) => s.release().catch(() => undefined)));
  }

  private evict(): void {
    // runs are one at a time, so the least recently used session is never running now
    while (this.fixed.size >= this.max) {
      const [key, p] = this.fixed.entries().next().value as [string, Promise<OrtSession>];
      this.fixed.delete(key);
      void p.then((s) => (s === this.base ? undefined : s.release().catch(() => undefined)));
    }
  }
}
