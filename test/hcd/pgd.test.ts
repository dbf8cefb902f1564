import { describe, expect, it } from 'vitest';
import { l2norm, PgdBuffers, randomStart, runPgd, stepSize, type GradFn } from '../../src/encoder/hcd/pgd.js';
import { Rng } from '../../src/shared/rng.js';
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
  const rng = new Rng(seed, 'mulberry32');
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
    randomStart(a, base, 0.3, 'l2', new Rng(7, 'mulberry32'));
    randomStart(b, base, 0.3, 'l2', new Rng(7, 'mulberry32'));
    randomStart(c, base, 0.3, 'l2', new Rng(8, 'mulberry32'));
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

/** The loop as first written (three separate passes, ||d||² summed directly), for comparison. */
async function referenceL2(fn: GradFn, base: Float32Array, d: Float32Array, iters: number, eps: number, alpha: number): Promise<number[]> {
  const n = d.length;
  const input = new Float32Array(n);
  const grad = new Float32Array(n);
  const losses: number[] = [];
  for (let k = 0; k < iters; k++) {
    for (let i = 0; i < n; i++) input[i] = base[i] + d[i];
    losses.push(await fn(input, grad));
    const step = alpha / (l2norm(grad) + 1e-10);
    for (let i = 0; i < n; i++) d[i] -= step * grad[i];
    const nd = l2norm(d);
    const k2 = nd > eps ? eps / (nd + 1e-7) : 1;
    for (let i = 0; i < n; i++) d[i] = Math.min(1 - base[i], Math.max(-base[i], d[i] * k2));
  }
  return losses;
}

describe('pgd loop details', () => {
  it('the fused L2 step (ball scale from the dot products) matches the three-pass reference', async () => {
    for (const [eps, alpha] of [
      [1.5, 0.3], // ball binds from the first steps
      [50, 0.3], // ball never binds, box does
    ]) {
      const { rng, base, goal } = setup(3001, 3); // not a multiple of 4: the unrolled sums have a tail
      const d = new Float32Array(base.length);
      randomStart(d, base, Math.min(eps, 1.5), 'l2', rng);
      const ref = d.slice();
      const tr = await runPgd(quadratic(goal), base, d, { iters: 12, eps, alpha, rule: 'l2' }, new PgdBuffers(d.length));
      const refLosses = await referenceL2(quadratic(goal), base, ref, 12, eps, alpha);
      for (let k = 0; k < 12; k++) expect(tr.losses[k]).toBeCloseTo(refLosses[k], 4);
      let maxDiff = 0;
      for (let i = 0; i < d.length; i++) maxDiff = Math.max(maxDiff, Math.abs(d[i] - ref[i]));
      expect(maxDiff).toBeLessThan(1e-5);
    }
  });

  it('calls the hook at every iterate with base + d and the loss there; its time is not counted', async () => {
    const { rng, base, goal } = setup(2000, 4);
    const d = new Float32Array(base.length);
    randomStart(d, base, 1, 'l2', rng);
    const seen: { k: number; loss: number | undefined; dist: number }[] = [];
    const fn = quadratic(goal);
    const t0 = performance.now();
    const tr = await runPgd(fn, base, d, { iters: 10, eps: 1, alpha: 0.1, rule: 'l2' }, new PgdBuffers(d.length), async (k, it, loss) => {
      // the loss the hook is given is the one at the iterate it is given
      if (loss !== undefined) expect(await fn(it, new Float32Array(it.length))).toBeCloseTo(loss, 6);
      seen.push({ k, loss, dist: l2norm(Float32Array.from(it, (v, i) => v - goal[i])) });
      await new Promise((r) => setTimeout(r, 20));
    });
    expect(seen.map((s) => s.k)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(seen.slice(0, 10).map((s) => s.loss)).toEqual(tr.losses);
    expect(seen[10].loss).toBeUndefined();
    // the iterates approach the goal on average
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    expect(mean(seen.slice(6).map((s) => s.dist))).toBeLessThan(mean(seen.slice(0, 5).map((s) => s.dist)));
    // the 11 hook calls sleep at least 220 ms of the run's wall time, and none of it is counted;
    // bounded against this run's own wall time, so a slow machine cannot fail it
    const wall = performance.now() - t0;
    expect(tr.jsMs + tr.modelMs).toBeLessThanOrEqual(wall - 11 * 20 + 1);
  });

  it('keepBest returns the lowest-loss iterate when fixed-length steps overshoot the minimum', async () => {
    const { rng, base } = setup(1000, 5);
    // a goal inside the box and well inside the ball: steps of fixed length bounce around it
    const goal = Float32Array.from(base, (b) => 0.25 + 0.5 * b);
    const start = new Float32Array(base.length);
    randomStart(start, base, 2, 'l2', rng);
    const opts = { iters: 20, eps: 20, alpha: 0.9, rule: 'l2' as const };
    const fn = quadratic(goal);
    const lossAt = (d: Float32Array) => fn(Float32Array.from(d, (v, i) => base[i] + v), new Float32Array(d.length));
    const last = start.slice();
    const trLast = await runPgd(fn, base, last, opts, new PgdBuffers(last.length));
    const best = start.slice();
    const trBest = await runPgd(fn, base, best, { ...opts, keepBest: true }, new PgdBuffers(best.length));
    expect(trLast.kept).toBe(20);
    expect(trBest.losses).toHaveLength(21); // one more evaluation, of the last iterate
    expect(trBest.losses.slice(0, 20)).toEqual(trLast.losses);
    const lowest = Math.min(...trBest.losses);
    expect(trBest.kept).toBe(trBest.losses.indexOf(lowest));
    expect(trBest.kept).toBeLessThan(20); // the fixture must make the last iterate not the best
    expect(await lossAt(best)).toBeCloseTo(lowest, 6);
    expect(await lossAt(best)).toBeLessThan(await lossAt(last));
  });

  it('the cosine schedule anneals the step and settles closer to the minimum than fixed steps', async () => {
    expect(stepSize(0.5, 0, 10)).toBe(0.5);
    expect(stepSize(0.5, 7, 10, 'constant')).toBe(0.5);
    const steps = Array.from({ length: 10 }, (_, k) => stepSize(0.5, k, 10, 'cosine'));
    expect(steps[0]).toBeCloseTo(0.5, 12);
    for (let k = 1; k < 10; k++) expect(steps[k]).toBeLessThan(steps[k - 1]);
    expect(steps[9]).toBeGreaterThan(0);
    const { rng, base } = setup(1000, 6);
    const goal = Float32Array.from(base, (b) => 0.25 + 0.5 * b);
    const start = new Float32Array(base.length);
    randomStart(start, base, 2, 'l2', rng);
    const run = async (schedule: 'constant' | 'cosine') => {
      const d = start.slice();
      await runPgd(quadratic(goal), base, d, { iters: 20, eps: 20, alpha: 0.9, rule: 'l2', schedule }, new PgdBuffers(d.length));
      return l2norm(Float32Array.from(d, (v, i) => base[i] + v - goal[i]));
    };
    expect(await run('cosine')).toBeLessThan((await run('constant')) / 2);
  });
});
