import { Rng } from './prng.js';

/**
 * Projected gradient descent on a perturbation `d` of a fixed point `base`, as in the official
 * HCD code (attack_pgd / attack_pgd_sr in xubingna/HCD, run as a descent instead of an attack):
 * the variable is base + d, d stays inside a ball around 0 and base + d inside the [0, 1] box.
 */
export type StepRule = 'l2' | 'linf' | 'adam';

export interface PgdOptions {
  iters: number;
  /** Ball radius: L2 norm of d for 'l2' and 'adam', max |d| for 'linf'. */
  eps: number;
  /** Step: L2 length of one step for 'l2', per-value step for 'linf' and 'adam'. */
  alpha: number;
  rule: StepRule;
}

/** Loss and gradient at `input`; writes the gradient into `grad` and returns the loss. */
export type GradFn = (input: Float32Array, grad: Float32Array) => Promise<number>;

/** Reused buffers for one problem size, so that the loop allocates nothing per iteration. */
export class PgdBuffers {
  readonly input: Float32Array;
  readonly grad: Float32Array;
  private adamM?: Float32Array;
  private adamV?: Float32Array;

  constructor(readonly size: number) {
    this.input = new Float32Array(size);
    this.grad = new Float32Array(size);
  }

  adam(): { m: Float32Array; v: Float32Array } {
    this.adamM ??= new Float32Array(this.size);
    this.adamV ??= new Float32Array(this.size);
    return { m: this.adamM, v: this.adamV };
  }
}

export function l2norm(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

/** Keeps base + d inside [0, 1]. */
export function clampToBox(d: Float32Array, base: Float32Array): void {
  for (let i = 0; i < d.length; i++) {
    const lo = -base[i];
    const hi = 1 - base[i];
    const v = d[i];
    d[i] = v < lo ? lo : v > hi ? hi : v;
  }
}

/** Projects d onto the ball of the rule (torch's renorm for L2: scale down only when outside). */
export function projectBall(d: Float32Array, eps: number, rule: StepRule): void {
  if (rule === 'linf') {
    for (let i = 0; i < d.length; i++) d[i] = d[i] < -eps ? -eps : d[i] > eps ? eps : d[i];
    return;
  }
  const n = l2norm(d);
  if (n > eps) {
    const k = eps / (n + 1e-7);
    for (let i = 0; i < d.length; i++) d[i] *= k;
  }
}

/**
 * The official random start: for L2, a Gaussian direction scaled to a uniform fraction of eps;
 * for L-infinity, uniform in [-eps, eps]. Then clamped to the box.
 */
export function randomStart(d: Float32Array, base: Float32Array, eps: number, rule: StepRule, rng: Rng): void {
  if (rule === 'linf') {
    for (let i = 0; i < d.length; i++) d[i] = (2 * rng.next() - 1) * eps;
  } else {
    for (let i = 0; i < d.length; i++) d[i] = rng.normal();
    const k = (rng.next() * eps) / (l2norm(d) + 1e-12);
    for (let i = 0; i < d.length; i++) d[i] *= k;
  }
  clampToBox(d, base);
}

export interface PgdTrace {
  /** Loss at the start of each iteration (before its step). */
  losses: number[];
  /** Milliseconds spent inside the gradient function, and in this loop's own JS. */
  modelMs: number;
  jsMs: number;
}

/**
 * Runs the loop in place on `d`; returns the loss trace and the time split. The JS side is
 * three fused passes per iteration (gradient norm; step with the new norm; ball, box and the
 * next input), so it stays small beside the network's forward and backward pass.
 */
export async function runPgd(fn: GradFn, base: Float32Array, d: Float32Array, opts: PgdOptions, buf: PgdBuffers): Promise<PgdTrace> {
  const { input, grad } = buf;
  const n = d.length;
  const losses: number[] = [];
  let modelMs = 0;
  let jsMs = 0;
  const adam = opts.rule === 'adam' ? buf.adam() : undefined;
  if (adam) {
    adam.m.fill(0);
    adam.v.fill(0);
  }
  const b1 = 0.9;
  const b2 = 0.999;
  let t0 = performance.now();
  for (let i = 0; i < n; i++) input[i] = base[i] + d[i];
  for (let k = 0; k < opts.iters; k++) {
    let t1 = performance.now();
    jsMs += t1 - t0;
    losses.push(await fn(input, grad));
    t0 = performance.now();
    modelMs += t0 - t1;
    let dd = 0;
    if (opts.rule === 'l2') {
      let gg = 0;
      for (let i = 0; i < n; i++) gg += grad[i] * grad[i];
      const step = opts.alpha / (Math.sqrt(gg) + 1e-10);
      for (let i = 0; i < n; i++) {
        const v = d[i] - step * grad[i];
        d[i] = v;
        dd += v * v;
      }
    } else if (opts.rule === 'linf') {
      const a = opts.alpha;
      const e = opts.eps;
      for (let i = 0; i < n; i++) {
        const v = d[i] - (grad[i] > 0 ? a : grad[i] < 0 ? -a : 0);
        d[i] = v < -e ? -e : v > e ? e : v;
      }
    } else if (adam) {
      const c1 = 1 - Math.pow(b1, k + 1);
      const c2 = 1 - Math.pow(b2, k + 1);
      const { m, v } = adam;
      for (let i = 0; i < n; i++) {
        const g = grad[i];
        m[i] = b1 * m[i] + (1 - b1) * g;
        v[i] = b2 * v[i] + (1 - b2) * g * g;
        const x = d[i] - (opts.alpha * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + 1e-8);
        d[i] = x;
        dd += x * x;
      }
    }
    // L2 ball as torch's renorm (scale down only when outside), then the box, then the next input
    const k2 = opts.rule !== 'linf' && Math.sqrt(dd) > opts.eps ? opts.eps / (Math.sqrt(dd) + 1e-7) : 1;
    for (let i = 0; i < n; i++) {
      const lo = -base[i];
      const hi = 1 - base[i];
      const v = d[i] * k2;
      const c = v < lo ? lo : v > hi ? hi : v;
      d[i] = c;
      input[i] = base[i] + c;
    }
    t1 = performance.now();
    jsMs += t1 - t0;
    t0 = t1;
  }
  return { losses, modelMs, jsMs };
}
