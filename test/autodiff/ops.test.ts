import { describe, expect, it } from 'vitest';
import { rules } from '../../src/encoder/graph/autodiff/rules.js';
import { opInfo, opsWhere } from '../../src/encoder/graph/ops.js';
import { ALLOWED_OPS } from '../../src/encoder/pairs/ops.js';

describe('op table', () => {
  it('marks differentiable exactly the ops that have a gradient rule', () => {
    expect([...opsWhere((o) => o.grad === 'vjp')].sort()).toEqual(Object.keys(rules).sort());
  });

  it('lets pairs use only ops the gradient engine handles', () => {
    expect(ALLOWED_OPS.size).toBeGreaterThan(0);
    for (const op of ALLOWED_OPS) expect(opInfo(op)?.grad, op).toBeDefined();
  });

  it('knows nothing of names that are not ops', () => {
    expect(opInfo('constructor')).toBeUndefined();
    expect(opInfo('toString')).toBeUndefined();
  });
});
