import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';

/** What a client can revalidate a file against. */
export interface Validators {
  /** A strong entity tag, quoted. */
  etag: string;
  /** The HTTP date, or null while a later write could still fall into the same second. */
  lastModified: string | null;
  /** The modification time truncated to whole seconds, as HTTP dates are. */
  modifiedSecond: number;
}

/**
 * An HTTP date has one-second resolution: a file rewritten within the second it was served
 * would look unchanged to If-Modified-Since. So the date is given out (and honoured) only once
 * the file is older than this; until then clients revalidate with the ETag alone.
 */
export const SETTLED_MS = 2_000;

/**
 * The ETag covers the inode, so a new version renamed into place changes it even when size and
 * modification time (to the nanosecond) are the same as the old one's.
 */
export function validatorsOf(stat: BigIntStats, now = Date.now()): Validators {
  const id = `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}`;
  const etag = `"${createHash('sha256').update(id).digest('base64url').slice(0, 22)}"`;
  const mtimeMs = Number(stat.mtimeNs / 1_000_000n);
  const modifiedSecond = Math.floor(mtimeMs / 1000) * 1000;
  const lastModified = now - mtimeMs >= SETTLED_MS ? new Date(modifiedSecond).toUTCString() : null;
  return { etag, lastModified, modifiedSecond };
}

/**
 * The entity tags of an If-None-Match / If-Match value, without W/ (weak comparison), or '*'.
 * null when the value is malformed: the condition is then ignored. Tags may contain commas,
 * so the list is scanned quote by quote rather than split.
 */
export function parseEntityTags(value: string): string[] | '*' | null {
  if (value.trim() === '*') return '*';
  const tags: string[] = [];
  let i = 0;
  for (;;) {
    while (i < value.length && (value[i] === ' ' || value[i] === '\t' || value[i] === ',')) i++;
    if (i >= value.length) return tags.length > 0 ? tags : null;
    if (value.startsWith('W/', i)) i += 2;
    if (value[i] !== '"') return null;
    const close = value.indexOf('"', i + 1);
    if (close < 0) return null;
    tags.push(value.slice(i, close + 1));
    i = close + 1;
    if (i < value.length && value[i] !== ',' && value[i] !== ' ' && value[i] !== '\t') return null;
  }
}

/** RFC 9110 §13.2.2: If-None-Match decides when present; If-Modified-Since only without it. */
export function isNotModified(headers: IncomingHttpHeaders, v: Validators): boolean {
  const inm = headers['if-none-match'];
  if (inm !== undefined) {
    const tags = parseEntityTags(inm);
    return tags === '*' || (tags !== null && tags.includes(v.etag));
  }
  const ims = headers['if-modified-since'];
  if (ims === undefined || v.lastModified === null) return false;
  const since = Date.parse(ims);
  return Number.isFinite(since) && v.modifiedSecond <= since;
}

/** If-Range: the client's partial copy is current only on an exact strong match. */
export function rangeIsCurrent(ifRange: string | undefined, v: Validators): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) return value === v.etag;
  return v.lastModified !== null && value === v.lastModified;
}
