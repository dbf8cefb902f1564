import type { InferenceSession } from 'onnxruntime-web';
import { checkUpscalerManifest } from '../shared/upscaler-manifest.js';
import type { Backend, BackendChoice, Ort, OrtSession } from './types.js';

/** What the player needs to know about the network it runs. */
export interface ModelInfo {
  id: string;
  scale: number;
  input: string;
  output: string;
  /** Multiplier from 0-255 pixels to the network's values (1/255 for a 0-1 network). */
  inScale: number;
  receptiveRadius: number;
  bytes: Uint8Array;
}

async function fetchOk(url: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`cannot fetch ${url}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new Error(`cannot fetch ${url}: HTTP ${res.status}`);
  return res;
}

/**
 * Loads an UpscalerManifest and the ONNX file it names (relative to the manifest), or a bare
 * ONNX file whose input/output names are taken from the session later (`input`/`output` empty).
 */
export async function loadModel(url: string, bareScale = 2): Promise<ModelInfo> {
  const abs = new URL(url, globalThis.location?.href).href;
  if (!/\.json(\?|#|$)/i.test(abs)) {
    const bytes = new Uint8Array(await (await fetchOk(abs)).arrayBuffer());
    return { id: abs.split('/').pop() ?? 'model', scale: bareScale, input: '', output: '', inScale: 1 / 255, receptiveRadius: 8, bytes };
  }
  let json: unknown;
  try {
    json = await (await fetchOk(abs)).json();
  } catch (e) {
    throw new Error((e as Error).message.startsWith('cannot fetch') ? (e as Error).message : `upscaler manifest ${abs} is not JSON`);
  }
  const m = checkUpscalerManifest(json, `upscaler manifest ${abs}`);
  const modelUrl = new URL(m.model, abs).href;
  const bytes = new Uint8Array(await (await fetchOk(modelUrl)).arrayBuffer());
  return {
    id: m.id,
    scale: m.scale,
    input: m.input,
    output: m.output,
    inScale: m.range === '0-1' ? 1 / 255 : 1,
    receptiveRadius: m.receptiveRadius,
    bytes,
  };
}

const configured = new WeakSet<Ort>();
/** Global onnxruntime-web settings (per build loaded); they only take effect before its first session is made. */
export function configureOrt(ort: Ort, opts: { wasmPaths: string; numThreads?: number; proxy: boolean }): void {
  if (configured.has(ort)) return;
  configured.add(ort);
  ort.env.wasm.wasmPaths = opts.wasmPaths;
  // WASM inference in a worker keeps the page's main thread (and so requestVideoFrameCallback,
  // the clock the player runs on) free; onnxruntime-web's WebGPU backend cannot run proxied
  ort.env.wasm.proxy = opts.proxy;
  // threads need SharedArrayBuffer, which only a cross-origin isolated page (COOP+COEP) has
  const isolated = globalThis.crossOriginIsolated === true;
  const cores = globalThis.navigator?.hardwareConcurrency ?? 1;
  ort.env.wasm.numThreads = opts.numThreads ?? (isolated ? Math.max(1, Math.min(4, cores)) : 1);
}

/** Why WebGPU cannot be used here, or undefined if an adapter is available. */
export async function webgpuUsable(): Promise<string | undefined> {
  const gpu = (globalThis.navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return 'WebGPU is not available in this browser';
  try {
    if (!(await gpu.requestAdapter())) return 'WebGPU has no adapter';
  } catch (e) {
    return `WebGPU adapter request failed: ${(e as Error).message}`;
  }
  return undefined;
}

export interface SessionResult {
  session: OrtSession;
  backend: Backend;
  /** What the session was created with (more sessions of the same model use the same). */
  options: InferenceSession.SessionOptions;
  /** Why WebGPU was not used, when 'auto' ended up on WASM. */
  webgpuProblem?: string;
}

/** Session options per backend. */
export function sessionOptions(backend: Backend): InferenceSession.SessionOptions {
  const base = { graphOptimizationLevel: 'all' as const };
  // WebGPU: outputs stay in GPU buffers, drawn by src/player/gpu.ts (or downloaded with getData())
  if (backend === 'webgpu') return { ...base, executionProviders: ['webgpu'], preferredOutputLocation: 'gpu-buffer' };
  return { ...base, executionProviders: ['wasm'] };
}

/**
 * A session on the chosen backend; 'auto' tries WebGPU (unless `gpuProblem` says why not), then
 * WASM. Throws if none works. `bytes` stay usable: the proxy worker is given a copy, since it
 * takes ownership of (detaches) what it gets, and more sessions are made from them later.
 */
export async function createSession(ort: Ort, bytes: Uint8Array, choice: BackendChoice, gpuProblem?: string): Promise<SessionResult> {
  let webgpuProblem: string | undefined;
  if (choice !== 'wasm') {
    webgpuProblem = gpuProblem;
    if (!webgpuProblem) {
      const options = sessionOptions('webgpu');
      try {
        const session = await ort.InferenceSession.create(bytes.slice(), options);
        return { session, backend: 'webgpu', options };
      } catch (e) {
        webgpuProblem = `WebGPU session failed: ${(e as Error).message}`;
      }
    }
    if (choice === 'webgpu') throw new Error(webgpuProblem);
  }
  const options = sessionOptions('wasm');
  try {
    const session = await ort.InferenceSession.create(bytes.slice(), options);
    return { session, backend: 'wasm', options, webgpuProblem };
  } catch (e) {
    throw new Error(`WASM session failed: ${(e as Error).message}`);
  }
}
