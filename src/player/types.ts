import type * as OrtWeb from 'onnxruntime-web';

/** The onnxruntime-web module, as `import * as ort from 'onnxruntime-web'` gives it. */
export type Ort = typeof OrtWeb;
export type OrtSession = OrtWeb.InferenceSession;
export type OrtTensor = OrtWeb.Tensor;

export type Backend = 'webgpu' | 'wasm';
export type BackendChoice = 'auto' | Backend;
/** What the player does with frames right now. */
export type Mode = 'neural' | 'alternate' | 'bilinear' | 'passthrough';
/** Where the network's output goes: drawn from the GPU buffer it is in, or downloaded and put on the canvas. */
export type OutputPath = 'gpu-buffer' | 'cpu';

export interface HcdStats {
  /** Where the network runs; 'none' before a session exists or after a fallback to bilinear. */
  backend: Backend | 'none';
  /** Frames drawn per second over the last stats interval. */
  fps: number;
  /** Smoothed time of one network run, frame grab to drawn output (NaN before the first). */
  msPerFrame: number;
  /** Frames that arrived while the network was still busy and were not drawn. */
  droppedFrames: number;
  upscaledFrames: number;
  mode: Mode;
  /** hls.js level index of the frame drawn last (-1 without hls.js). */
  level: number;
}

export interface FallbackInfo {
  reason: string;
  /** 'wasm': WebGPU failed, the network runs on WASM; 'bilinear': no network at all. */
  to: 'wasm' | 'bilinear';
}

export interface BackendInfo {
  backend: Backend;
  runtime: RuntimeName;
  /** WASM: the threads the network runs on. */
  threads?: number;
  /** The own WASM kernel's build: fused multiply-add (relaxed SIMD) or plain SIMD. */
  simd?: KernelSimd;
  output: OutputPath;
  /** Why a WebGPU session's output is downloaded rather than drawn on the GPU. */
  outputProblem?: string;
}

/** Milliseconds of one upscaled frame's stages. */
export interface StageMs {
  /** Video frame -> planar float tensor (WebCodecs planes, shared/yuv.ts). */
  grab: number;
  /** The network: input upload, run(s), and on WASM the output back to the main thread; on WebGPU until the GPU has finished. */
  infer: number;
  /** Output -> canvas: packing + putImageData, or the WebGPU render pass + copy onto the 2D canvas. */
  draw: number;
}

/** What the canvas shows now, for tests and diagnostics. */
export interface LastDraw {
  kind: 'neural' | 'bilinear' | 'passthrough';
  /** The video time of the frame (rVFC metadata, or currentTime for a paused refine). */
  mediaTime: number;
  width: number;
  height: number;
  /** How the frame's RGB was obtained: exact I420/NV12 planes, or a canvas read (small colour mismatch). */
  colourPath?: 'i420' | 'nv12' | 'canvas';
  /** Network runs the frame took (more than 1 when tiled). */
  tiles?: number;
  /** Neural frames: how the output reached the canvas. */
  output?: OutputPath;
  /** Neural frames: whether the session had fixed input shapes (freeDimensionOverrides). */
  fixedShape?: boolean;
}

/**
 * The parts of an hls.js instance the plugin uses. Structural, so the bundle never imports
 * hls.js: the page passes its own instance.
 */
export interface HlsLevelLike {
  width: number;
  height: number;
  attrs: Record<string, string | undefined>;
}
export interface HlsLike {
  // hls.js's typed on/off are generic over its event enum; the plugin uses the string values.
  on(event: string, listener: (event: string, data: unknown) => void): void;
  off(event: string, listener: (event: string, data: unknown) => void): void;
  /** Empty until the master playlist is parsed. */
  readonly levels: HlsLevelLike[] | null;
  currentLevel: number;
  readonly url: string | null;
}

/**
 * What runs the network. 'auto': the player's own WebGPU/WASM kernels for the project's upscaler
 * architectures, onnxruntime-web for any other model; 'onnxruntime-web': onnxruntime-web always.
 */
export type RuntimeChoice = 'auto' | 'onnxruntime-web';
/** The own WASM kernel's build: 'relaxed' fuses each multiply-add (relaxed SIMD), 'plain' rounds twice. */
export type KernelSimd = 'relaxed' | 'plain';
/** What runs the network now: the player's own kernels, or onnxruntime-web. */
export type RuntimeName = 'kernels' | 'onnxruntime-web';

export interface CommonOptions {
  canvas: HTMLCanvasElement;
  backend?: BackendChoice;
  /** Default 'auto'. */
  runtime?: RuntimeChoice;
  /** What to show when the network cannot run. Only bilinear exists. */
  fallback?: 'bilinear';
  /** Where onnxruntime-web's .wasm/.mjs files are served (ort.env.wasm.wasmPaths). Default '/ort/'. */
  wasmPaths?: string;
  /** onnxruntime-web itself; if omitted the plugin imports `ortUrl`. */
  ort?: Ort;
  /**
   * Module URL to import onnxruntime-web from when `ort` is not given. Default: the WebGPU build
   * `${wasmPaths}ort.min.mjs` where WebGPU can be used, else the smaller WASM-only build
   * `${wasmPaths}ort.wasm.min.mjs`.
   */
  ortUrl?: string;
  /** Largest LR tile side in pixels; frames bigger than that are upscaled in overlapping tiles. 0: never tile. Default 0 up to 960x540 LR, 480 above. */
  tile?: number;
  /** Degrade to alternate/bilinear when the network falls behind (default true). */
  adaptive?: boolean;
  /** WASM threads; default min(4, cores) when the page is cross-origin isolated, else 1. */
  numThreads?: number;
  /**
   * The own WASM kernel's fused multiply-add (relaxed SIMD) where the browser has it: about
   * 1.5 times faster on CPUs with FMA, and its output differs from the plain build's in the
   * last bits. false: the plain SIMD build everywhere, the same output in every browser. Default true.
   */
  relaxedSimd?: boolean;
  /**
   * Run WASM inference in onnxruntime-web's proxy worker, so the page's main thread stays free.
   * Default: on when WebGPU will not be used. onnxruntime-web settings are global: the first
   * upscaler on a page decides them.
   */
  proxy?: boolean;
  /**
   * WebGPU: draw the network's output from its GPU buffer with a render pass (default true).
   * false downloads it and draws with putImageData, as on WASM.
   */
  keepOnGpu?: boolean;
  /** How often the 'stats' event fires (ms, default 1000). */
  statsIntervalMs?: number;
  /**
   * The element that holds the video and the canvas: `requestFullscreen()` puts it in full
   * screen, and captions are drawn in it. Default: the canvas's parent element.
   */
  container?: HTMLElement;
  /** Draw the video's showing text tracks (captions, subtitles) over the canvas. Default true. */
  captions?: boolean;
}

export interface HcdUpscalerOptions extends CommonOptions {
  hls: HlsLike;
  video: HTMLVideoElement;
}

/** A plain <video> whose every frame is upscaled by one model. */
export interface AttachModelOptions extends CommonOptions {
  /** An UpscalerManifest (.json) or an ONNX file; every frame of the video is upscaled by it. */
  modelUrl: string;
  /** Scale of a bare ONNX file (default 2); a manifest brings its own. */
  scale?: number;
}

/** A <video> playing HLS natively (Safari): only the master playlist's LR variants are upscaled. */
export interface AttachMasterOptions extends CommonOptions {
  /** The master playlist the video plays; its variants say which frame sizes are LR, and its session data names the upscaler. */
  master: string;
}

export type AttachOptions = AttachModelOptions | AttachMasterOptions;
