import { promises as fsp, type Stats } from 'node:fs';
import path from 'node:path';
import type { Request, Response } from 'express';
import { sendError } from './errors.js';
import { CACHE_FILES, sendFile } from './send.js';

/**
 * Splits the raw (still percent-encoded) path below a mount point into decoded segments.
 * Returns null for anything that is not a plain relative file name: `..` and `.` in any
 * encoding, empty segments (`//`, absolute paths), encoded slashes, backslashes, control
 * characters, and names starting with a dot (hidden files and the encoder's temp files).
 * `/` alone gives no segments.
 * Decoding happens exactly once, so `%252e` stays the literal name `%2e`.
 */
export function safeSegments(rawPath: string): string[] | null {
  if (!rawPath.startsWith('/')) return null;
  // One trailing slash names a folder; folders are never listed, so it resolves to a 404.
  const trimmed = rawPath.length > 1 && rawPath.endsWith('/') ? rawPath.slice(1, -1) : rawPath.slice(1);
  if (trimmed === '') return [];
  const parts = trimmed.split('/');
  const out: string[] = [];
  for (const part of parts) {
    let name: string;
    try {
      name = decodeURIComponent(part);
    } catch {
      return null;
    }
    // eslint-disable-next-line no-control-regex
    if (name === '' || name.startsWith('.') || /[\\/\x00-\x1f\x7f]/.test(name)) return null;
    out.push(name);
  }
  return out;
}

/** realpath, or null while the folder does not exist (the player may be built after start). */
export async function realDir(dir: string): Promise<string | null> {
  try {
    return await fsp.realpath(dir);
  } catch {
    return null;
  }
}

export type Resolved =
  | { kind: 'file'; file: string; stat: Stats }
  | { kind: 'forbidden' }
  | { kind: 'missing' };

/**
 * Finds `segments` below `rootReal` (already a realpath). The target's realpath must still be
 * inside the root, so a symlink that points out of it is refused, however it got there.
 */
export async function resolveInside(rootReal: string, segments: string[]): Promise<Resolved> {
  const joined = path.join(rootReal, ...segments);
  let real: string;
  try {
    real = await fsp.realpath(joined);
  } catch {
    return { kind: 'missing' };
  }
  if (real !== rootReal && !real.startsWith(rootReal.endsWith(path.sep) ? rootReal : rootReal + path.sep)) {
    return { kind: 'forbidden' };
  }
  let stat: Stats;
  try {
    stat = await fsp.stat(real);
  } catch {
    return { kind: 'missing' };
  }
  if (!stat.isFile()) return { kind: 'missing' };
  return { kind: 'file', file: real, stat };
}

/** Answers a request for a path below `rootReal` with the file (sent with `cache` as its Cache-Control) or a JSON error. */
export async function serveFrom(req: Request, res: Response, rootReal: string, segments: string[] | null, cache = CACHE_FILES): Promise<void> {
  if (!segments || segments.length === 0) {
    sendError(res, segments ? 404 : 403, segments ? 'not found' : 'forbidden path');
    return;
  }
  const found = await resolveInside(rootReal, segments);
  if (found.kind === 'forbidden') return sendError(res, 403, 'forbidden path');
  if (found.kind === 'missing') return sendError(res, 404, 'not found');
  await sendFile(req, res, found.file, cache);
}
