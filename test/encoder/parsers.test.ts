import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatBitrates, nonNegative, num, parseBitrate, parseBitrates, parseCodecLoop, parseCrfs, parseHullCrfs, parseIters, positive } from '../../src/cli/flags.js';
import { EXECUTION_PROVIDERS, resolveCompareConfig, resolveEncodeConfig, X264_PRESETS, type CompareConfig, type CompareInput, type EncodeConfig, type EncodeInput } from '../../src/config.js';
import { outcome } from './helpers.js';

/**
 * Every parser a flag value reaches, and the config checks behind them, on generated input: a
 * right answer for what is well-formed, and for anything else one clear line (an HcdError),
 * never another exception and never a value the job cannot use.
 */
const RUNS = { numRuns: 1500, seed: 20_251_206 };

/** Strings that look like flag values: digits, units, separators, spaces, signs, junk. */
const flagText = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: fc.constantFrom('0', '1', '2', '5', '9', '.', ',', 'k', 'M', 'e', '-', '+', ' ', '\n', 'x', 'I', 'n', 'f'), maxLength: 24 }),
  fc.array(fc.oneof(fc.integer({ min: -5, max: 60 }).map(String), fc.double().map(String), fc.constantFrom('', ' ', 'Infinity', 'NaN', '1e999', '0x10', '1e3', '2.5')), { maxLength: 6 }).map((xs) => xs.join(',')),
);

const isBitrate = (b: number) => Number.isSafeInteger(b) && b >= 1000 && b <= 1e9;
const isCount = (n: number) => Number.isSafeInteger(n) && n >= 0;
const isCrf = (n: number) => Number.isInteger(n) && n >= 0 && n <= 51;

describe('flag values', () => {
  it('--renditions: bitrates in range, or one line', () => {
    fc.assert(
      fc.property(flagText, (s) => {
        const r = outcome(() => parseBitrates(s));
        if ('value' in r) for (const b of r.value) expect(isBitrate(b), `${s} -> ${b}`).toBe(true);
      }),
      RUNS,
    );
  });

  it('--renditions: what formatBitrates spells comes back unchanged; k and M multiply', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1000, max: 1e9 }), { maxLength: 5 }), (bs) => {
        expect(parseBitrates(formatBitrates(bs))).toEqual(bs);
      }),
      RUNS,
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 999_999 }), (k) => {
        expect(parseBitrate(`${k}k`)).toBe(k * 1000);
        expect(parseBitrate(` ${k / 1000}M `)).toBe(Math.round((k / 1000) * 1e6));
      }),
      RUNS,
    );
  });

  it('--hcd-iters: two counts exactly as written, or one line', () => {
    fc.assert(
      fc.property(flagText, (s) => {
        const r = outcome(() => parseIters(s));
        if (!('value' in r)) return;
        expect(r.value).toHaveLength(2);
        expect(r.value.every(isCount)).toBe(true);
        // each part is the integer written there in digits: nothing empty, no hex or exponents
        expect(s.split(',').every((p) => /^\s*[+-]?\d+\s*$/.test(p))).toBe(true);
        expect(s.split(',').map(Number)).toEqual(r.value);
      }),
      RUNS,
    );
    fc.assert(fc.property(fc.nat(), fc.nat(), (a, b) => void expect(parseIters(`${a}, ${b}`)).toEqual([a, b])), RUNS);
  });

  it('--codec-loop: usable numbers, or one line', () => {
    fc.assert(
      fc.property(flagText, (s) => {
        const r = outcome(() => parseCodecLoop(s));
        if (!('value' in r)) return;
        const { passes, step, radius, rateSlope } = r.value;
        expect(isCount(passes!)).toBe(true);
        expect(Number.isFinite(step) && step! > 0).toBe(true);
        expect(Number.isFinite(radius) && radius! >= 0).toBe(true);
        expect(rateSlope === undefined || (Number.isFinite(rateSlope) && rateSlope >= 0)).toBe(true);
        expect(s.split(',').every((p) => p.trim() !== '')).toBe(true);
      }),
      RUNS,
    );
    fc.assert(
      fc.property(fc.nat(20), fc.double({ min: 0.01, max: 100, noNaN: true }), fc.double({ min: 0, max: 100, noNaN: true }), (p, step, radius) => {
        expect(parseCodecLoop(`${p},${step},${radius}`)).toEqual({ passes: p, step, radius });
      }),
      RUNS,
    );
  });

  it('--crf and --hull-crf: CRFs 0-51 as written, or one line', () => {
    fc.assert(
      fc.property(flagText, (s) => {
        const crf = outcome(() => parseCrfs(s));
        if ('value' in crf) {
          expect(crf.value.length).toBeGreaterThanOrEqual(2);
          expect(new Set(crf.value).size).toBe(crf.value.length);
          expect(crf.value.every(isCrf)).toBe(true);
          expect(crf.value).toEqual(s.split(',').filter((p) => p.trim() !== '').map(Number));
        }
        const hull = outcome(() => parseHullCrfs(s));
        if ('value' in hull) expect(hull.value.every(isCrf)).toBe(true);
      }),
      RUNS,
    );
    fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 51 }), { minLength: 2, maxLength: 8 }), (cs) => void expect(parseCrfs(cs.join(','))).toEqual(cs)), RUNS);
  });

  it('number flags: finite numbers in their range, or one line', () => {
    fc.assert(
      fc.property(flagText, (s) => {
        const n = outcome(() => num('x')(s));
        if ('value' in n) expect(Number.isFinite(n.value)).toBe(true);
        const p = outcome(() => positive('x', s));
        if ('value' in p) expect(Number.isFinite(p.value) && p.value > 0).toBe(true);
        const i = outcome(() => positive('x', s, true));
        if ('value' in i) expect(Number.isSafeInteger(i.value) && i.value > 0).toBe(true);
        const z = outcome(() => nonNegative('x', s));
        if ('value' in z) expect(Number.isFinite(z.value) && z.value >= 0).toBe(true);
      }),
      RUNS,
    );
  });
});

const anyNumber = fc.oneof(fc.double(), fc.integer({ min: -10, max: 100 }), fc.constantFrom(0, -0, 1, 2, 8, 1000, 150_000, 1e9, 1e12, NaN, Infinity, -Infinity, 0.5, 2 ** 53));
const numbers = fc.array(anyNumber, { maxLength: 4 });
const loop = fc.record({ passes: anyNumber, step: anyNumber, radius: anyNumber, rateSlope: anyNumber }, { requiredKeys: [] });
const text = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('', 'medium', 'veryslow', 'cpu', 'cuda', 'A', 'B', 'C'));

const encodeInput: fc.Arbitrary<EncodeInput> = fc.record(
  {
    input: text,
    outdir: text,
    model: text,
    seconds: anyNumber,
    segment: anyNumber,
    gop: anyNumber,
    renditions: numbers,
    sourceRenditions: numbers,
    codecAware: fc.boolean(),
    codecLoop: loop,
    hcdIters: numbers,
    ep: text,
    preset: text,
    audioBitrates: numbers,
    resume: fc.boolean(),
    force: fc.boolean(),
  },
  { requiredKeys: ['input', 'outdir'] },
) as fc.Arbitrary<EncodeInput>;

const compareInput: fc.Arbitrary<CompareInput> = fc.record(
  { crfs: numbers, hullCrfs: numbers, pipelines: fc.array(text, { maxLength: 4 }), scale: anyNumber, start: anyNumber, preset: text, threads: anyNumber, hcdIters: numbers, codecLoop: loop },
  { requiredKeys: [] },
) as fc.Arbitrary<CompareInput>;

function validLoop(l: EncodeConfig['codecLoop']): boolean {
  return isCount(l.passes) && Number.isFinite(l.step) && l.step > 0 && Number.isFinite(l.radius) && l.radius >= 0 && Number.isFinite(l.rateSlope) && l.rateSlope >= 0;
}

const validIters = (it: number[]) => it.length === 2 && it.every(isCount);

function validEncode(c: EncodeConfig): boolean {
  return (
    c.input !== '' &&
    c.outdir !== '' &&
    c.model !== '' &&
    Number.isFinite(c.segment) &&
    c.segment > 0 &&
    Number.isFinite(c.gop) &&
    c.gop > 0 &&
    Number.isInteger(Math.round(c.segment / c.gop)) &&
    Math.abs(c.segment / c.gop - Math.round(c.segment / c.gop)) * c.gop < 1e-6 &&
    (c.seconds === undefined || (Number.isFinite(c.seconds) && c.seconds > 0)) &&
    c.renditions.length > 0 &&
    [...c.renditions, ...c.sourceRenditions].every(isBitrate) &&
    c.audioBitrates.length === 2 &&
    c.audioBitrates.every(isBitrate) &&
    c.audioBitrates[0] <= c.audioBitrates[1] &&
    validLoop(c.codecLoop) &&
    validIters(c.hcdIters) &&
    EXECUTION_PROVIDERS.includes(c.ep) &&
    (X264_PRESETS as readonly string[]).includes(c.preset)
  );
}

function validCompare(c: CompareConfig): boolean {
  return (
    c.crfs.length >= 2 &&
    new Set(c.crfs).size === c.crfs.length &&
    [...c.crfs, ...c.hullCrfs].every(isCrf) &&
    c.pipelines.length > 0 &&
    c.pipelines.every((p) => p !== '') &&
    Number.isSafeInteger(c.scale) &&
    c.scale >= 1 &&
    Number.isFinite(c.start) &&
    c.start >= 0 &&
    Number.isSafeInteger(c.threads) &&
    c.threads >= 1 &&
    validLoop(c.codecLoop) &&
    validIters(c.hcdIters) &&
    (X264_PRESETS as readonly string[]).includes(c.preset)
  );
}

describe('job configs', () => {
  it('resolveEncodeConfig: any combination of fields gives a usable config or one line', () => {
    fc.assert(
      fc.property(encodeInput, (given) => {
        const r = outcome(() => resolveEncodeConfig(given));
        if ('value' in r) expect(validEncode(r.value), JSON.stringify(r.value)).toBe(true);
      }),
      RUNS,
    );
  });

  it('resolveEncodeConfig: the defaults and sensible values are accepted as given', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.uniqueArray(fc.integer({ min: 1000, max: 1e8 }), { minLength: 1, maxLength: 3 }), fc.nat(30), fc.nat(30), (segment, renditions, hr, lr) => {
        const c = resolveEncodeConfig({ input: 'in.mp4', outdir: 'out', model: 'bicubic-x2', segment, renditions, hcdIters: [hr, lr] });
        expect([c.segment, c.renditions, c.hcdIters]).toEqual([segment, renditions, [hr, lr]]);
      }),
      { numRuns: 200 },
    );
  });

  it('resolveCompareConfig: any combination of fields gives a usable config or one line', () => {
    fc.assert(
      fc.property(compareInput, (given) => {
        const r = outcome(() => resolveCompareConfig(given));
        if ('value' in r) expect(validCompare(r.value), JSON.stringify(r.value)).toBe(true);
      }),
      RUNS,
    );
    expect(validCompare(resolveCompareConfig({}))).toBe(true);
  });
});
