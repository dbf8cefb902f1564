import { describe, expect, it } from 'vitest';
import { l2norm, PgdBuffers, randomStart, runPgd, type GradFn } from '../../src/encoder/hcd/pgd.js';
import { Rng } from '../../src/encoder/hcd/prng.js';
import { makeTiles } from '../../src/encoder/hcd/tiles.js';

/** 0.5 * ||v - goal||^2: gradient v - goal, minimum at goal. */
function quadratic(goal: Float32Array): GradFn {
  return async (v, g) => {
    let s = 0;
    for (let i = 0; i < v.length; i++) {
      g[i] = v[i] - goal[i];
      s += g[i] * g[i];
    }
    return 0.5 * s;
  };
}

function setup(n: number, seed: number) {
  const rng = new Rng(seed);
  const base = Float32Array.from({ length: n }, () => rng.next());
  // the goal lies outside the box for some values, so the box must bind
  const goal = Float32Array.from(base, (b) => b + (rng.next() - 0.5) * 0.4);
  return { rng, base, goal };
}

describe('pgd', () => {
  it('L2 rule: loss falls, d stays in the ball and base + d in the box', async () => {
    const { rng, base, goal } = setup(4096, 1);
    const d = new Float32Array(base.length);
    const eps = 1.5;
    randomStart(d, base, eps, 'l2', rng);
    const tr = await runPgd(quadratic(goal), base, d, { iters: 30, eps, alpha: 0.3, rule: 'l2' }, new PgdBuffers(d.length));
    expect(tr.losses[tr.losses.length - 1]).toBeLessThan(tr.losses[0] * 0.8);
    expect(l2norm(d)).toBeLessThanOrEqual(eps * (1 + 1e-5));
    for (let i = 0; i < d.length; i++) {
      expect(base[i] + d[i]).toBeGreaterThanOrEqual(-1e-6);
      expect(base[i] + d[i]).toBeLessThanOrEqual(1 + 1e-6);
    }
    // with a budget that cannot reach the goal the optimum is on the sphere
    expect(l2norm(d)).toBeGreaterThan(eps * 0.99);
  });

  it('L-infinity and Adam rules also descend and respect their balls', async () => {
    for (const rule of ['linf', 'adam'] as const) {
      const { rng, base, goal } = setup(2048, 2);
      const d = new Float32Array(base.length);
      const eps = rule === 'linf' ? 0.05 : 1.0;
      randomStart(d, base, eps, rule, rng);
      const tr = await runPgd(quadratic(goal), base, d, { iters: 25, eps, alpha: 0.01, rule }, new PgdBuffers(d.length));
      expect(tr.losses[24]).toBeLessThan(tr.losses[0]);
      if (rule === 'linf') expect(Math.max(...Array.from(d, Math.abs))).toBeLessThanOrEqual(eps + 1e-6);
      else expect(l2norm(d)).toBeLessThanOrEqual(eps * (1 + 1e-5));
    }
  });

  it('random start is deterministic for a seed and different for another', () => {
    const base = new Float32Array(500).fill(0.5);
    const a = new Float32Array(500);
    const b = new Float32Array(500);
    const c = new Float32Array(500);
    randomStart(a, base, 0.3, 'l2', new Rng(7));
    randomStart(b, base, 0.3, 'l2', new Rng(7));
    randomStart(c, base, 0.3, 'l2', new Rng(8));
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(l2norm(a)).toBeLessThanOrEqual(0.3 + 1e-6);
  });

  it('tiles cover the image exactly once, with clipped halos', () => {
    const tiles = makeTiles(300, 200, 128, 8);
    const seen = new Uint8Array(300 * 200);
    for (const t of tiles) {
      for (let y = t.y; y < t.y + t.h; y++) for (let x = t.x; x < t.x + t.w; x++) seen[y * 300 + x]++;
      expect(t.px).toBeLessThanOrEqual(t.x);
      expect(t.px + t.pw).toBeGreaterThanOrEqual(t.x + t.w);
      expect(t.px + t.pw).toBeLessThanOrEqual(300);
      expect(t.py + t.ph).toBeLessThanOrEqual(200);
    }
    expect(seen.every((v) => v === 1)).toBe(true);
    // 300 = 128 + 172 (the 44-wide rest joins the previous run); 200 = 128 + 72
    expect(tiles.map((t) => t.w)).toEqual([128, 172, 128, 172]);
    expect(makeTiles(50, 40, 0, 8)).toHaveLength(1);
  });
});
