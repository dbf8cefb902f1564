/**
 * What `hcd image` and `hcd eval` load on demand, so that the other commands start without the
 * gradient engine.
 */
export { Hcd } from './hcd.js';
export { ablation, hcdImage } from './ablation.js';
