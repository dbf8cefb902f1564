/**
 * Adam with decoupled weight decay (AdamW) and a warmup + cosine learning-rate schedule. Moments
 * live in plain Float32Arrays next to the weights, so checkpoints can store them verbatim.
 */
export interface AdamConfig {
  lr: number;
  /** Final learning rate at the end of the cosine. */
  lrMin: number;
  warmup: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export const DEFAULT_ADAM: AdamConfig = { lr: 1e-3, lrMin: 2e-5, warmup: 100, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };

/** Learning rate for 0-based `step` of `total`: linear warmup, then cosine down to lrMin. */
export function learningRate(cfg: AdamConfig, step: number, total: number): number {
  const warm = Math.min(cfg.warmup, Math.max(1, Math.floor(total / 10)));
  if (step < warm) return (cfg.lr * (step + 1)) / warm;
  const t = (step - warm) / Math.max(1, total - warm);
  return cfg.lrMin + 0.5 * (cfg.lr - cfg.lrMin) * (1 + Math.cos(Math.PI * Math.min(1, t)));
}

export interface AdamSlot {
  m: Float32Array;
  v: Float32Array;
}

export function newSlot(n: number): AdamSlot {
  return { m: new Float32Array(n), v: new Float32Array(n) };
}

/** One in-place update; `t` is the 1-based count of updates including this one. */
export function adamStep(w: Float32Array, g: Float32Array, slot: AdamSlot, cfg: AdamConfig, lr: number, t: number, decay = true): void {
  const { beta1: b1, beta2: b2, eps } = cfg;
  const c1 = 1 - b1 ** t;
  const c2 = 1 - b2 ** t;
  const wd = decay ? cfg.weightDecay * lr : 0;
  const { m, v } = slot;
  for (let i = 0; i < w.length; i++) {
    const gi = g[i];
    m[i] = b1 * m[i] + (1 - b1) * gi;
    v[i] = b2 * v[i] + (1 - b2) * gi * gi;
    w[i] -= lr * (m[i] / c1) / (Math.sqrt(v[i] / c2) + eps) + wd * w[i];
  }
}
