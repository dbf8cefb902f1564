import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { encodeModel, type ModelProto } from './proto.js';

export type ExecutionProvider = 'cpu' | 'cuda' | 'webgpu';

export interface SessionOptions {
  ep?: ExecutionProvider;
  /** Intra-op threads; every core by default. */
  threads?: number;
  /** Called once when the requested provider is missing and CPU is used instead. */
  onWarning?: (message: string) => void;
}

const warned = new Set<string>();

const require = createRequire(import.meta.url);

/**
 * Whether onnxruntime-node can load the provider at all. CUDA is listed even when its libraries
 * were never installed (`.npmrc` skips that download); trying it then prints a native error, so
 * look for the provider library first.
 */
function providerAvailable(ep: ExecutionProvider): boolean {
  if (ep === 'cpu') return true;
  const b = ort.listSupportedBackends().find((x) => x.name === ep);
  if (!b) return false;
  if (b.bundled) return true;
  try {
    const binDir = dirname(require.resolve('onnxruntime-node/package.json'));
    const arch = join(binDir, 'bin', 'napi-v6', process.platform, process.arch);
    return existsSync(join(arch, `libonnxruntime_providers_${ep}.so`));
  } catch {
    return false;
  }
}

/**
 * An inference session on onnxruntime-node. A provider that is not installed (CUDA without
 * `ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci`) or that fails to start (WebGPU without a Vulkan
 * driver) falls back to CPU with a warning, never a crash.
 */
export async function createSession(model: ModelProto | Uint8Array, opts: SessionOptions = {}): Promise<ort.InferenceSession> {
  const bytes = model instanceof Uint8Array ? model : encodeModel(model);
  const ep = opts.ep ?? 'cpu';
  const base: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: opts.threads ?? cpus().length,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  };
  const warn = (msg: string) => {
    if (warned.has(msg)) return;
    warned.add(msg);
    (opts.onWarning ?? ((m: string) => process.stderr.write(`warning: ${m}\n`)))(msg);
  };
  if (ep !== 'cpu') {
    if (!providerAvailable(ep)) {
      warn(`execution provider '${ep}' is not available in this onnxruntime-node install; using CPU`);
    } else {
      try {
        return await ort.InferenceSession.create(bytes, { ...base, executionProviders: [ep, 'cpu'] });
      } catch (e) {
        warn(`execution provider '${ep}' failed to start (${(e as Error).message.split('\n')[0]}); using CPU`);
      }
    }
  }
  return ort.InferenceSession.create(bytes, { ...base, executionProviders: ['cpu'] });
}

export { ort };
