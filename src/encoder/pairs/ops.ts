import { opsWhere } from '../graph/ops.js';
import type { ModelProto } from '../graph/proto.js';

/** The ops a pair may use (graph/ops.ts says why). */
export const ALLOWED_OPS: ReadonlySet<string> = opsWhere((op) => !!op.pair);

/** Problems that would break the gradient engine or the browser: ops outside the set, Convs without explicit attributes. */
export function graphProblems(model: ModelProto): string[] {
  const problems = new Set<string>();
  for (const n of model.graph?.node ?? []) {
    const op = n.opType ?? '';
    if (n.domain && n.domain !== 'ai.onnx') problems.add(`op ${n.domain}.${op} is outside the default domain`);
    else if (!ALLOWED_OPS.has(op)) problems.add(`op ${op} is not in the supported set`);
    if (op === 'Conv' || op === 'ConvTranspose') {
      const names = new Set((n.attribute ?? []).map((a) => a.name));
      const missing = ['kernel_shape', 'strides', 'pads', 'dilations'].filter((a) => !names.has(a));
      if (missing.length) problems.add(`${op} '${n.name}' lacks explicit ${missing.join('/')} (WebGPU needs them)`);
    }
  }
  return [...problems];
}
