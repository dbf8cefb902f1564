import fc from 'fast-check';

/** One range-spec of a generated Range header; `junk` is a non-empty element that is not one. */
export type Spec =
  | { kind: 'int'; first: bigint; last: bigint | null }
  | { kind: 'suffix'; length: bigint }
  | { kind: 'junk'; text: string };

export type Expected = { kind: 'whole' } | { kind: 'unsatisfiable' } | { kind: 'part'; start: number; end: number };

// Small positions land inside the small files the model is checked on; huge ones test exactness.
const position = fc.oneof({ weight: 4, arbitrary: fc.bigInt(0n, 80n) }, { weight: 1, arbitrary: fc.bigInt(0n, 10n ** 25n) });
const JUNK = ['x', '1-2-3', '--5', '5', '-', '1 - 2', '0x10-', '+1-2', '1-2a', '\u0661-\u0662', '1.5-2', '-1-2'];

export const specArb: fc.Arbitrary<Spec> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('int' as const), first: position, last: fc.option(position, { nil: null }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('suffix' as const), length: position }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('junk' as const), text: fc.constantFrom(...JUNK) }) },
);

const ows = fc.constantFrom('', ' ', '  ', '\t', ' \t');

/** A Range header for the specs, with the unit's case and the list's whitespace varied. */
export const headerArb = (specs: fc.Arbitrary<Spec[]>): fc.Arbitrary<{ specs: Spec[]; header: string }> =>
  fc.tuple(specs, fc.constantFrom('bytes', 'BYTES', 'Bytes'), fc.array(fc.tuple(ows, ows), { minLength: 8, maxLength: 8 }), fc.boolean()).map(
    ([list, unit, spaces, emptyElement]) => {
      const items = list.map((s, i) => `${spaces[i % 8][0]}${specText(s)}${spaces[i % 8][1]}`);
      if (emptyElement) items.push(' ');
      return { specs: list, header: `${unit}=${items.join(',')}` };
    },
  );

export function specText(s: Spec): string {
  if (s.kind === 'int') return `${s.first}-${s.last ?? ''}`;
  if (s.kind === 'suffix') return `-${s.length}`;
  return s.text;
}

/**
 * RFC 9110 §14 by brute force over the file's bytes: which bytes the specs select, and whether
 * they form one span. Independent of the server's parser on purpose.
 */
export function expectedRange(specs: Spec[], size: number): Expected {
  if (specs.length === 0) return { kind: 'whole' };
  if (specs.some((s) => s.kind === 'junk' || (s.kind === 'int' && s.last !== null && s.last < s.first))) return { kind: 'whole' };
  const covered: boolean[] = [];
  for (let i = 0; i < size; i++) {
    const b = BigInt(i);
    covered.push(specs.some((s) => (s.kind === 'int' ? s.first <= b && (s.last === null || b <= s.last) : s.kind === 'suffix' && s.length > 0n && b >= BigInt(size) - s.length)));
  }
  const first = covered.indexOf(true);
  if (first < 0) return { kind: 'unsatisfiable' };
  const last = covered.lastIndexOf(true);
  return covered.slice(first, last + 1).every(Boolean) ? { kind: 'part', start: first, end: last } : { kind: 'whole' };
}

/** Printable ASCII, which is what an HTTP client can put into a header value. */
export const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 });
