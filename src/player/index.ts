/**
 * hcd-stream's browser player plugin: hls.js + onnxruntime-web upscaling of LR renditions.
 * hls.js and onnxruntime-web are peer dependencies, never bundled: the page passes its hls.js
 * instance (and hls.js's CapLevelController class to `upscaledCapLevelController`), and
 * onnxruntime-web is passed in (`ort`) or imported from `ortUrl` / `wasmPaths`.
 */
export { HcdUpscaler } from './upscaler.js';
export { Events, type EventName, type HcdEvents, type HcdListener } from './events.js';
export { upscaledCapLevelController, type CapLevelControllerClass } from './caplevel.js';
export { AdaptiveController } from './adaptive.js';
export { planTiles, runTiled } from './tiling.js';
export { i420ToPlanarRgb, planarRgbToI420 } from '../shared/yuv.js';
export type * from './types.js';
