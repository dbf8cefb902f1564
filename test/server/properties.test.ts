import type { BigIntStats } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isNotModified, parseEntityTags, rangeIsCurrent, validatorsOf } from '../../src/server/conditional.js';
import { safeSegments } from '../../src/server/files.js';
import { headerList } from '../../src/server/headers.js';
import { isServedMediaPath } from '../../src/server/media.js';
import { parseRange } from '../../src/server/range.js';
import { expectedRange, headerArb, printable, specArb } from './range-model.js';

/**
 * Every parser a client's request reaches, on generated input: a right answer for what is
 * well-formed, and for anything else an answer (never an exception, which would be a 500).
 */
const RUNS = { numRuns: 2_000 };
const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), printable, fc.string({ unit: fc.constantFrom('/', '.', '%', '2', 'e', 'f', '5', 'c', '0', 'a', '\\', '-', ',', '=', ' ', '"', 'W'), maxLength: 40 }));

describe('parseRange', () => {
  it('matches RFC 9110 (by brute force over the bytes) for generated headers', () => {
    fc.assert(
      fc.property(headerArb(fc.array(specArb, { maxLength: 5 })), fc.integer({ min: 0, max: 64 }), ({ specs, header }, size) => {
        expect(parseRange(header, size)).toEqual(expectedRange(specs, size));
      }),
      RUNS,
    );
  });

  it('answers anything with a span inside the file, "unsatisfiable" or "whole", and never throws', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, fc.string().map((s) => `bytes=${s}`)), fc.integer({ min: 0, max: 2 ** 40 }), (header, size) => {
        const r = parseRange(header, size);
        if (r.kind === 'part') {
          expect(Number.isSafeInteger(r.start) && Number.isSafeInteger(r.end)).toBe(true);
          expect(0 <= r.start && r.start <= r.end && r.end < size).toBe(true);
        } else expect(['whole', 'unsatisfiable']).toContain(r.kind);
      }),
      RUNS,
    );
  });

  it('a suffix longer than the file is the whole file', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 40 }), fc.bigInt({ min: 0n, max: 10n ** 30n }), (size, extra) => {
        expect(parseRange(`bytes=-${BigInt(size) + extra}`, size)).toEqual({ kind: 'part', start: 0, end: size - 1 });
      }),
    );
  });
});

// eslint-disable-next-line no-control-regex
const segmentName = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).filter((s) => !s.startsWith('.') && !/[\\/\x00-\x1f\x7f]/.test(s));
// eslint-disable-next-line no-control-regex
const isPlainName = (s: string) => s !== '' && !s.startsWith('.') && !/[\\/\x00-\x1f\x7f]/.test(s);

describe('safeSegments', () => {
  it('gives back the names of any encoded path of plain names, with or without a trailing slash', () => {
    fc.assert(
      fc.property(fc.array(segmentName, { minLength: 1, maxLength: 5 }), fc.boolean(), (names, slash) => {
        const p = `/${names.map(encodeURIComponent).join('/')}${slash ? '/' : ''}`;
        expect(safeSegments(p)).toEqual(names);
      }),
      RUNS,
    );
  });

  it('refuses a path with a dot segment in any encoding', () => {
    const dots = fc.constantFrom('..', '.', '%2e%2e', '%2E%2e', '.%2e', '%2e', '%2E');
    fc.assert(
      fc.property(fc.array(segmentName.map(encodeURIComponent), { maxLength: 3 }), dots, fc.array(segmentName.map(encodeURIComponent), { maxLength: 3 }), (a, dot, b) => {
        expect(safeSegments(`/${[...a, dot, ...b].join('/')}`)).toBeNull();
      }),
      RUNS,
    );
  });

  it('answers anything with null or plain names only, and never throws', () => {
    fc.assert(
      fc.property(anyText, (p) => {
        const segs = safeSegments(p);
        if (segs !== null) expect(segs.every(isPlainName)).toBe(true);
      }),
      RUNS,
    );
  });
});

const SERVED_EXT = new Set(['.m3u8', '.ts', '.m4s', '.mp4', '.onnx', '.json', '.html', '.csv', '.svg', '.png']);

describe('isServedMediaPath', () => {
  it('allows only plain names, at most three deep, with a player or report extension', () => {
    const part = fc.oneof(fc.constantFrom('upscaler', 'compare', 'crops', 'streams', 'lr-150k', 'job.json', 'state.json', 'manifest.json', 'model.onnx', 'report.json', 'rd.svg', 'seg_00000.ts', 'x.tmp', '.work', 'A.png', 'A.mp4', 'master.m3u8'), anyText);
    fc.assert(
      fc.property(fc.array(part, { maxLength: 5 }), (rel) => {
        if (!isServedMediaPath(rel)) return;
        expect(rel.length).toBeGreaterThan(0);
        expect(rel.length).toBeLessThanOrEqual(3);
        expect(rel.every(isPlainName)).toBe(true);
        const last = rel[rel.length - 1];
        expect(SERVED_EXT.has(path.extname(last).toLowerCase())).toBe(true);
        expect(['job.json', 'state.json']).not.toContain(last);
      }),
      RUNS,
    );
  });
});

function fakeStat(over: Partial<Record<'dev' | 'ino' | 'size' | 'mtimeNs', bigint>> = {}): BigIntStats {
  return { dev: 1n, ino: 2n, size: 100n, mtimeNs: 1_600_000_000_000_000_000n, ...over } as BigIntStats;
}

describe('conditional requests', () => {
  const opaque = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).filter((c) => c !== 0x22).map((c) => String.fromCharCode(c)), maxLength: 20 });

  it('parseEntityTags reads back any list of tags, weak or strong, commas inside included', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), opaque), { minLength: 1, maxLength: 6 }), fc.constantFrom(',', ', ', ' ,\t'), (tags, sep) => {
        const header = tags.map(([weak, t]) => `${weak ? 'W/' : ''}"${t}"`).join(sep);
        expect(parseEntityTags(header)).toEqual(tags.map(([, t]) => `"${t}"`));
      }),
      RUNS,
    );
  });

  it('If-None-Match is a match exactly when the list holds the current tag (weakly compared)', () => {
    const v = validatorsOf(fakeStat(), Date.now());
    fc.assert(
      fc.property(fc.array(opaque.map((t) => `"${t}"`), { maxLength: 4 }), fc.boolean(), fc.boolean(), (others, include, weak) => {
        const list = include ? [...others, `${weak ? 'W/' : ''}${v.etag}`] : others;
        if (list.length === 0) return;
        expect(isNotModified({ 'if-none-match': list.join(', ') }, v)).toBe(include || others.includes(v.etag));
      }),
      RUNS,
    );
  });

  it('never throws on any If-None-Match, If-Modified-Since or If-Range', () => {
    const v = validatorsOf(fakeStat(), 1_700_000_000_000);
    fc.assert(
      fc.property(anyText, anyText, anyText, (inm, ims, ifRange) => {
        expect(typeof isNotModified({ 'if-none-match': inm }, v)).toBe('boolean');
        expect(typeof isNotModified({ 'if-modified-since': ims }, v)).toBe('boolean');
        expect(typeof rangeIsCurrent(ifRange, v)).toBe('boolean');
      }),
      RUNS,
    );
  });

  it('a new inode, size or mtime is a new ETag', () => {
    const base = validatorsOf(fakeStat()).etag;
    for (const over of [{ ino: 3n }, { size: 101n }, { mtimeNs: 1_600_000_000_000_000_001n }, { dev: 9n }]) {
      expect(validatorsOf(fakeStat(over)).etag).not.toBe(base);
    }
  });
});

describe('headerList', () => {
  it('echoes only header names, whatever the preflight asked', () => {
    fc.assert(
      fc.property(anyText, (v) => {
        expect(headerList(v)).toMatch(/^[A-Za-z0-9-]+(, [A-Za-z0-9-]+)*$/);
      }),
      RUNS,
    );
  });
});
