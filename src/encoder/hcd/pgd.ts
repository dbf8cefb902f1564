import type { Rng } from '../../shared/rng.js';

/**
 * Projected gradient descent on a perturbation `d` of a fixed point `base`, as in the official
 * HCD code (attack_pgd / attack_pgd_sr in xubingna/HCD, run as a descent instead of an attack):
 * the variable is base + d, d stays inside a ball around 0 and base + d inside the [0, 1] box.
 */
export type StepRule = 'l2' | 'linf' | 'adam';

/** How the step size changes over the iterations: fixed (official) or cosine-annealed towards 0. */
export type StepSchedule = 'constant' | 'cosine';

export interface PgdOptions {
  iters: number;
  /** Ball radius: L2 norm of d for 'l2' and 'adam', max |d| for 'linf'. */
  eps: number;
  /** Step: L2 length of one step for 'l2', per-value step for 'linf' and 'adam'. */
  alpha: number;
  rule: StepRule;
  /** Step schedule; 'constant' (the default) is the official one. */
  schedule?: StepSchedule;
  /**
   * Return the iterate with the lowest loss instead of the last one (a restart-free form of the
   * official best-of-restarts). Costs one more gradient evaluation, for the last iterate's loss.
   */
  keepBest?: boolean;
}

/** Loss and gradient at `input`; writes the gradient into `grad` and returns the loss. */
export type GradFn = (input: Float32Array, grad: Float32Array) => Promise<number>;

/**
 * Called with iterate k = 0 (the start) .. iters (after the last step). `iterate` is base + d,
 * a buffer the loop reuses: copy it to keep it. `loss` is the loss at that iterate when the loop
 * evaluated it (every k < iters; k = iters only with keepBest). The loop waits for a returned
 * promise, and the callback's time counts neither as model nor as JS time.
 */
export type IterHook = (k: number, iterate: Float32Array, loss: number | undefined) => void | Promise<void>;

/** Reused buffers for one problem size, so that the loop allocates nothing per iteration. */
export class PgdBuffers {
  readonly input: Float32Array;
  readonly grad: Float32Array;
  private adamM?: Float32Array;
  private adamV?: Float32Array;
  private bestD?: Float32Array;

  constructor(readonly size: number) {
    this.input = new Float32Array(size);
    this.grad = new Float32Array(size);
  }

  adam(): { m: Float32Array; v: Float32Array } {
    this.adamM ??= new Float32Array(this.size);
    this.adamV ??= new Float32Array(this.size);
    return { m: this.adamM, v: this.adamV };
  }

  best(): Float32Array {
    return (this.bestD ??= new Float32Array(this.size));
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
    rng.fillNormal(d);
    const k = (rng.next() * eps) / (l2norm(d) + 1e-12);
    for (let i = 0; i < d.length; i++) d[i] *= k;
  }
  clampToBox(d, base);
}

export interface PgdTrace {
  /** Loss at the start of each iteration (before its step); with keepBest also the last iterate's. */
  losses: number[];
  /** Milliseconds spent inside the gradient function, and in this loop's own JS. */
  modelMs: number;
  jsMs: number;
  /** Iterate returned in d: `iters` (the last) unless keepBest found a lower loss earlier. */
  kept: number;
}

// The hot passes are small top-level functions rather than loops inside runPgd: V8 optimizes a
// small synchronous function on its first long loop and keeps it, while one big async function
// with several loops was deoptimized and re-entered the interpreter again and again during its
// first calls (--trace-deopt: "insufficient type feedback"), which made the first image's loop
// several times slower than the steady state.

/**
 * Sum of g² and of d·g in one pass (into a Float64Array(2), so nothing is allocated). Four
 * partial sums each: one running sum waits on the previous add, four let them overlap
 * (measured 0.33 -> 0.21 ms for a 272x272 HR tile).
 */
function dots(g: Float32Array, d: Float32Array, out: Float64Array): void {
  let g0 = 0;
  let g1 = 0;
  let g2 = 0;
  let g3 = 0;
  let e0 = 0;
  let e1 = 0;
  let e2 = 0;
  let e3 = 0;
  const n = g.length;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const v0 = g[i];
    const v1 = g[i + 1];
    const v2 = g[i + 2];
    const v3 = g[i + 3];
    g0 += v0 * v0;
    g1 += v1 * v1;
    g2 += v2 * v2;
    g3 += v3 * v3;
    e0 += d[i] * v0;
    e1 += d[i + 1] * v1;
    e2 += d[i + 2] * v2;
    e3 += d[i + 3] * v3;
  }
  for (; i < n; i++) {
    g0 += g[i] * g[i];
    e0 += d[i] * g[i];
  }
  out[0] = g0 + g1 + g2 + g3;
  out[1] = e0 + e1 + e2 + e3;
}

/**
 * d ← box(k · (d - step · g)), input ← base + d, in one pass; returns ||d||² for the next
 * iteration. k is the ball's scale of d - step · g, known before the pass from
 * ||d - step g||² = ||d||² - 2 step d·g + step² ||g||².
 */
function stepScaleBox(d: Float32Array, g: Float32Array, base: Float32Array, input: Float32Array, step: number, k: number): number {
  let dd = 0;
  for (let i = 0; i < d.length; i++) {
    const b = base[i];
    const v = (d[i] - step * g[i]) * k;
    const lo = -b;
    const hi = 1 - b;
    const c = v < lo ? lo : v > hi ? hi : v;
    d[i] = c;
    input[i] = b + c;
    dd += c * c;
  }
  return dd;
}

/** Sign step, L-infinity ball and box in one pass. */
function stepLinf(d: Float32Array, g: Float32Array, base: Float32Array, input: Float32Array, a: number, e: number): void {
  for (let i = 0; i < d.length; i++) {
    const b = base[i];
    const gi = g[i];
    let v = d[i] - (gi > 0 ? a : gi < 0 ? -a : 0);
    v = v < -e ? -e : v > e ? e : v;
    const lo = -b;
    const hi = 1 - b;
    const c = v < lo ? lo : v > hi ? hi : v;
    d[i] = c;
    input[i] = b + c;
  }
}

/** Adam moment update and step on d; returns ||d||² (the ball's scale needs it before the box). */
function stepAdam(d: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, lr: number, c1: number, c2: number): number {
  const b1 = 0.9;
  const b2 = 0.999;
  let dd = 0;
  for (let i = 0; i < d.length; i++) {
    const gi = g[i];
    const mi = b1 * m[i] + (1 - b1) * gi;
    const vi = b2 * v[i] + (1 - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    const x = d[i] - (lr * (mi / c1)) / (Math.sqrt(vi / c2) + 1e-8);
    d[i] = x;
    dd += x * x;
  }
  return dd;
}

/** input ← base + d, returns ||d||². */
function addBase(d: Float32Array, base: Float32Array, input: Float32Array): number {
  let dd = 0;
  for (let i = 0; i < d.length; i++) {
    const c = d[i];
    input[i] = base[i] + c;
    dd += c * c;
  }
  return dd;
}

/** torch's renorm: the factor that brings a vector of squared norm dd back onto the ball. */
function ballScale(dd: number, eps: number): number {
  const n = Math.sqrt(Math.max(0, dd));
  return n > eps ? eps / (n + 1e-7) : 1;
}

/** Step size of iteration k of n: alpha throughout, or cosine-annealed from alpha towards 0. */
export function stepSize(alpha: number, k: number, n: number, schedule: StepSchedule = 'constant'): number {
  return schedule === 'cosine' ? alpha * 0.5 * (1 + Math.cos((Math.PI * k) / n)) : alpha;
}

/**
 * Runs the loop in place on `d`; returns the loss trace and the time split. The JS side is two
 * fused passes per iteration for 'l2' (gradient dots; step, ball, box and the next input), one
 * for 'linf' and two for 'adam', so it stays small beside the network's forward and backward.
 */
export async function runPgd(fn: GradFn, base: Float32Array, d: Float32Array, opts: PgdOptions, buf: PgdBuffers, onIter?: IterHook): Promise<PgdTrace> {
  const { input, grad } = buf;
  const losses: number[] = [];
  const schedule = opts.schedule ?? 'constant';
  let modelMs = 0;
  let jsMs = 0;
  const adam = opts.rule === 'adam' ? buf.adam() : undefined;
  if (adam) {
    adam.m.fill(0);
    adam.v.fill(0);
  }
  const best = opts.keepBest ? buf.best() : undefined;
  let bestLoss = Infinity;
  let kept = opts.iters;
  const gd = new Float64Array(2);
  let t0 = performance.now();
  let dd = addBase(d, base, input);
  // time outside the network and outside the hook
  const hook = async (k: number, loss: number | undefined) => {
    if (!onIter) return;
    jsMs += performance.now() - t0;
    await onIter(k, input, loss);
    t0 = performance.now();
  };
  const evaluate = async (k: number) => {
    const t1 = performance.now();
    jsMs += t1 - t0;
    const loss = await fn(input, grad);
    t0 = performance.now();
    modelMs += t0 - t1;
    losses.push(loss);
    if (best && loss < bestLoss) {
      bestLoss = loss;
      kept = k;
      best.set(d);
    }
    return loss;
  };
  for (let k = 0; k < opts.iters; k++) {
    const loss = await evaluate(k);
    await hook(k, loss);
    const alpha = stepSize(opts.alpha, k, opts.iters, schedule);
    if (opts.rule === 'l2') {
      dots(grad, d, gd);
      const step = alpha / (Math.sqrt(gd[0]) + 1e-10);
      const k2 = ballScale(dd - 2 * step * gd[1] + step * step * gd[0], opts.eps);
      dd = stepScaleBox(d, grad, base, input, step, k2);
    } else if (opts.rule === 'linf') {
      stepLinf(d, grad, base, input, alpha, opts.eps);
    } else if (adam) {
      const ddRaw = stepAdam(d, grad, adam.m, adam.v, alpha, 1 - Math.pow(0.9, k + 1), 1 - Math.pow(0.999, k + 1));
      // ball then box; step 0 leaves d as it is
      dd = stepScaleBox(d, grad, base, input, 0, ballScale(ddRaw, opts.eps));
    }
  }
  const last = best && opts.iters > 0 ? await evaluate(opts.iters) : undefined;
  await hook(opts.iters, last);
  if (best && kept !== opts.iters) {
    d.set(best);
    addBase(d, base, input);
  }
  jsMs += performance.now() - t0;
  return { losses, modelMs, jsMs, kept };
}
