/**
 * The player checks the UpscalerManifest by hand (src/shared/upscaler-manifest.ts) so that its
 * bundle carries no zod; Node keeps the zod schema. Both must accept and reject the same values.
 */
import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { parseManifest, UpscalerManifest } from '../../src/shared/manifest.js';
import { checkUpscalerManifest, type UpscalerManifestFields } from '../../src/shared/upscaler-manifest.js';

const valid = {
  id: 'hcd-x2',
  scale: 2,
  model: 'u.onnx',
  input: 'lr',
  output: 'hr',
  range: '0-1',
  colour: 'bt709-limited',
  params: 7176,
  macsPerPixel: 1767,
  receptiveRadius: 6,
};

/** Values a broken manifest might hold in any field. */
const anyValue = fc.oneof(
  fc.constantFrom(undefined, null, '', 'x', '0-1', '0-255', 'bt709-limited', 0, 1, 2, 8, 9, -1, 2.5, 1e300, NaN, Infinity, -0, true, [], {}),
  fc.integer({ min: -5, max: 20 }),
  fc.double(),
  fc.string(),
);

function zodSays(v: unknown): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: parseManifest(UpscalerManifest, v, 'm') };
  } catch {
    return { ok: false };
  }
}

function handSays(v: unknown): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: checkUpscalerManifest(v, 'm') };
  } catch {
    return { ok: false };
  }
}

describe('checkUpscalerManifest', () => {
  it('has the zod schema\'s type', () => {
    expectTypeOf<UpscalerManifestFields>().toEqualTypeOf<UpscalerManifest>();
  });

  it('accepts a valid manifest, drops unknown keys and fills receptiveRadius as zod does', () => {
    const extra = { ...valid, receptiveRadius: undefined, extra: 1 };
    expect(checkUpscalerManifest(extra, 'm')).toEqual(parseManifest(UpscalerManifest, extra, 'm'));
    expect(checkUpscalerManifest(extra, 'm').receptiveRadius).toBe(8);
  });

  it('says which field is wrong, in the same form as on the Node side', () => {
    expect(() => checkUpscalerManifest({ ...valid, scale: 9 }, 'upscaler manifest /u.json')).toThrow(/^invalid upscaler manifest \/u\.json: scale: /);
    expect(() => checkUpscalerManifest([], 'm')).toThrow(/^invalid m: \(root\): /);
  });

  it('agrees with zod on any one field changed (2000 cases)', () => {
    const keys = Object.keys(valid) as (keyof typeof valid)[];
    fc.assert(
      fc.property(fc.constantFrom(...keys), anyValue, (key, v) => {
        const m = { ...valid, [key]: v };
        const z = zodSays(m);
        const h = handSays(m);
        expect(h.ok, `${key} = ${String(v)}`).toBe(z.ok);
        if (z.ok && h.ok) expect(h.value).toEqual(z.value);
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with zod on values that are no object', () => {
    for (const v of [null, undefined, 1, 'x', [], [valid], true]) expect(handSays(v).ok, String(v)).toBe(zodSays(v).ok);
  });
});
