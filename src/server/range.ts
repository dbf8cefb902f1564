/**
 * What a `Range` request header asks of a representation of `size` bytes (RFC 9110 §14).
 * `whole`: send all of it with 200 (no header, another unit, a malformed header, or ranges that
 * do not join into one span: players ask for one, and RFC 9110 lets a server ignore Range).
 */
export type RangeAnswer = { kind: 'whole' } | { kind: 'unsatisfiable' } | { kind: 'part'; start: number; end: number };

interface Span {
  start: number;
  end: number;
}

const WHOLE: RangeAnswer = { kind: 'whole' };
const INT_RANGE = /^([0-9]+)-([0-9]*)$/;
const SUFFIX_RANGE = /^-([0-9]+)$/;
/** Beyond this many specs the header is ignored, so sorting them costs nothing worth attacking. */
const MAX_SPECS = 100;

/**
 * The span of one range-spec, null when it is valid but unsatisfiable, 'invalid' when malformed.
 * BigInt keeps 20-digit positions exact; only positions below `size` become numbers.
 */
function spanOf(spec: string, size: number): Span | null | 'invalid' {
  const suffix = SUFFIX_RANGE.exec(spec);
  if (suffix) {
    const length = BigInt(suffix[1]);
    if (length === 0n || size === 0) return null;
    // A suffix longer than the file means the whole file.
    return { start: length >= BigInt(size) ? 0 : size - Number(length), end: size - 1 };
  }
  const m = INT_RANGE.exec(spec);
  if (!m) return 'invalid';
  const first = BigInt(m[1]);
  const last = m[2] === '' ? null : BigInt(m[2]);
  if (last !== null && last < first) return 'invalid';
  if (first >= BigInt(size)) return null;
  const end = last === null || last >= BigInt(size) ? size - 1 : Number(last);
  return { start: Number(first), end };
}

/** Sorted, with overlapping and adjacent spans joined. */
function merge(spans: Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const out: Span[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s.start <= last.end + 1) last.end = Math.max(last.end, s.end);
    else out.push({ ...s });
  }
  return out;
}

export function parseRange(header: string | undefined, size: number): RangeAnswer {
  if (header === undefined) return WHOLE;
  const eq = header.indexOf('=');
  if (eq < 0 || header.slice(0, eq).trim().toLowerCase() !== 'bytes') return WHOLE;
  // Empty list elements are allowed by the list syntax (RFC 9110 §5.6.1) and skipped.
  const specs = header.slice(eq + 1).split(',').map((s) => s.replace(/^[ \t]+|[ \t]+$/g, '')).filter((s) => s !== '');
  if (specs.length === 0 || specs.length > MAX_SPECS) return WHOLE;
  const spans: Span[] = [];
  for (const spec of specs) {
    const span = spanOf(spec, size);
    if (span === 'invalid') return WHOLE;
    if (span) spans.push(span);
  }
  if (spans.length === 0) return { kind: 'unsatisfiable' };
  const joined = merge(spans);
  return joined.length === 1 ? { kind: 'part', start: joined[0].start, end: joined[0].end } : WHOLE;
}
