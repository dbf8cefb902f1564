import { HcdError } from '../shared/errors.js';
import { loadPairFolder } from '../encoder/pairs/folder.js';
import type { ModelProto } from '../encoder/graph/proto.js';
import { DataType } from '../encoder/graph/proto.js';
import { tensorFromProto } from '../encoder/graph/tensor.js';
import { loadCheckpoint } from './checkpoint.js';
import type { Params } from './params.js';
import type { TrainConfig, TrainStage } from './trainer.js';

/** Where `hcd train --init` takes its weights from, and the history that came with them. */
export interface InitSource {
  params: Params;
  step: number;
  /** A checkpoint's own config (its lineage follows `init` further back). */
  config?: TrainConfig;
  /** A pair folder's recorded lineage (manifest provenance), when it has one. */
  lineage?: TrainStage[];
}

const TRAINED = /^(down|up|still)\./;

/** The trained tensors of a pair folder's networks, by the names the trainer gave them. */
function pairParams(models: ModelProto[]): Params {
  const p: Params = new Map();
  for (const m of models)
    for (const t of m.graph?.initializer ?? []) {
      const name = t.name ?? '';
      if (!TRAINED.test(name) || (t.dataType ?? DataType.FLOAT) !== DataType.FLOAT) continue;
      const { dims, data } = tensorFromProto(t);
      p.set(name, { dims, data: data as Float32Array });
    }
  return p;
}

/**
 * A checkpoint file, or a pair folder that `hcd train` exported (models/hcd-x2): a shipped pair
 * can seed a new stage without the checkpoint it came from, which is never committed.
 */
export async function loadInitSource(path: string, isFolder: boolean): Promise<InitSource> {
  if (!isFolder) {
    const { state, config } = await loadCheckpoint(path);
    return { params: state.params, step: state.step, config: config as TrainConfig };
  }
  const pair = await loadPairFolder(path);
  const params = pairParams([pair.downscaler, pair.upscaler, ...(pair.stillUpscaler ? [pair.stillUpscaler] : [])]);
  if (![...params.keys()].some((n) => n.startsWith('down.')))
    throw new HcdError(`--init: ${path} is a pair folder, but not one that hcd train wrote (no down.* weights)`);
  const prov = pair.manifest.provenance;
  const lineage = Array.isArray(prov.lineage) ? (prov.lineage as TrainStage[]) : undefined;
  return { params, step: typeof prov.steps === 'number' ? prov.steps : 0, ...(lineage ? { lineage } : {}) };
}
