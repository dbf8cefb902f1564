import { describe, expect, it } from 'vitest';
import { deriveSeed, Rng } from '../../src/shared/rng.js';

// Values recorded from the generators HCD and training used before they shared this class: a
// change here changes every HCD result and every training run.
describe('Rng', () => {
  it('xoshiro128** (training) repeats its recorded stream', () => {
    const r = new Rng(3);
    expect([r.nextU32(), r.nextU32()]).toEqual([3088717543, 2765602889]);
    expect(r.next()).toBe(0.3831162315327674);
    expect(r.int(1000)).toBe(994);
    expect(r.normal()).toBe(-1.1185205711988613);
    expect(r.state()).toEqual([3472423900, 2401116593, 4226579931, 890983265]);
    const resumed = new Rng(r.state());
    expect(resumed.nextU32()).toBe(r.nextU32());
    const fromState = new Rng([1, 2, 3, 4]);
    expect([fromState.nextU32(), fromState.next()]).toEqual([11520, 0]);
  });

  it('mulberry32 (HCD) repeats its recorded stream', () => {
    const r = new Rng(7, 'mulberry32');
    expect([r.next(), r.next(), r.next()]).toEqual([0.011704753153026104, 0.06195825757458806, 0.97690763277933]);
    const normals = new Float64Array(3);
    r.fillNormal(normals);
    expect([...normals]).toEqual([-0.8385722172331512, -0.11368191594449176, -1.313436351837185]);
    expect(r.next()).toBe(0.23992518591694534);
    const resumed = new Rng(r.state(), 'mulberry32');
    expect(resumed.next()).toBe(r.next());
  });

  it('deriveSeed keeps its recorded values', () => {
    expect(deriveSeed(0, 3, 1)).toBe(185655703);
    expect(deriveSeed(12345, 0, 2)).toBe(1677635816);
  });
});
