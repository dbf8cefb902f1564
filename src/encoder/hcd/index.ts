export { Hcd, limitChange, psnr01, type HcdResult, type Planar, type RunOptions, type StageStats, type WarmState } from './hcd.js';
export { resolveOptions, L2_DEFAULTS, type HcdOptions } from './options.js';
export { buildHcdGraphs, Lane, type HcdGraphs, type HcdPair } from './nets.js';
export { HcdRescaler, type HcdRescalerOptions } from './rescaler.js';
export { ablation, hcdImage, type AblationRow, type ImageOutcome } from './ablation.js';
export { fitToScale, meanQuality, quality, type Quality } from './quality.js';
export { PlainPair } from '../pairs/plain.js';
export type { StepRule } from './pgd.js';
