/**
 * Seedable random numbers. Math.random cannot be seeded, and both HCD (the random start inside
 * the ball changes the result) and training (crops, qualities, initial weights) must repeat
 * exactly. Two generators sit behind the one class because results were recorded with each:
 * - 'xoshiro128**' (the default): its whole state is four words, so a training checkpoint stores
 *   it and a resumed run draws exactly what an uninterrupted one would;
 * - 'mulberry32': HCD's streams, one per tile and stage (seeds from deriveSeed).
 */
export type RngState = [number, number, number, number];

export type RngAlgorithm = 'xoshiro128**' | 'mulberry32';

/** A uint32 stream and the state that restarts it. */
interface Source {
  u32(): number;
  state(): RngState;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

class Xoshiro128 implements Source {
  private readonly s: RngState;

  constructor(seedOrState: number | RngState) {
    if (typeof seedOrState === 'number') {
      const sm = splitmix32(seedOrState);
      this.s = [sm(), sm(), sm(), sm()];
      if (this.s.every((v) => v === 0)) this.s[0] = 1;
    } else {
      this.s = [...seedOrState];
    }
  }

  state(): RngState {
    return [...this.s];
  }

  u32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] = (s[2] ^ s[0]) >>> 0;
    s[3] = (s[3] ^ s[1]) >>> 0;
    s[1] = (s[1] ^ s[2]) >>> 0;
    s[0] = (s[0] ^ s[3]) >>> 0;
    s[2] = (s[2] ^ t) >>> 0;
    s[3] = rotl(s[3], 11);
    return result;
  }
}

class Mulberry32 implements Source {
  private s: number;

  constructor(seedOrState: number | RngState) {
    this.s = (typeof seedOrState === 'number' ? seedOrState : seedOrState[0]) >>> 0;
  }

  state(): RngState {
    return [this.s, 0, 0, 0];
  }

  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
}

export class Rng {
  private readonly src: Source;

  /** A seed, or a state() of an Rng of the same algorithm to continue its stream. */
  constructor(
    seedOrState: number | RngState,
    readonly algorithm: RngAlgorithm = 'xoshiro128**',
  ) {
    this.src = algorithm === 'mulberry32' ? new Mulberry32(seedOrState) : new Xoshiro128(seedOrState);
  }

  state(): RngState {
    return this.src.state();
  }

  /** Uniform uint32. */
  nextU32(): number {
    return this.src.u32();
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.src.u32() / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller on two draws, the second value dropped). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Standard normals, both Box-Muller values of each two draws used (an odd length drops the last one). */
  fillNormal(out: Float32Array | Float64Array): void {
    for (let i = 0; i < out.length; i += 2) {
      let u = this.next();
      while (u === 0) u = this.next();
      const v = this.next();
      const r = Math.sqrt(-2 * Math.log(u));
      out[i] = r * Math.cos(2 * Math.PI * v);
      if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * v);
    }
  }
}

/** A seed derived from a base seed and a few integers (tile, stage), so that streams do not overlap. */
export function deriveSeed(seed: number, ...parts: number[]): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const p of parts) {
    h = Math.imul(h ^ (p + 0x7f4a7c15), 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
  }
  return h >>> 0;
}
