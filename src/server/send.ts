import { constants, promises as fsp, type BigIntStats } from 'node:fs';
import { pipeline } from 'node:stream';
import type { Request, Response } from 'express';
import { isNotModified, rangeIsCurrent, validatorsOf, type Validators } from './conditional.js';
import { sendError } from './errors.js';
import { contentType } from './mime.js';
import { parseRange, type RangeAnswer } from './range.js';

/**
 * Every file this server sends can be rewritten in place (a new encode into the same folder, a
 * new compare run, an npm update under an unversioned URL), so browsers keep copies only
 * together with their validators and ask before reusing them.
 */
export const CACHE_FILES = 'no-cache';

/**
 * Runtime files under a URL that names their version or content hash: a new version gets a new
 * URL, so the bytes under one never change and browsers may keep them without asking.
 */
export const CACHE_IMMUTABLE = 'public, max-age=31536000, immutable';

// Non-blocking so that a FIFO swapped in after the checks cannot hang the request; no-follow
// so that the already-resolved last component cannot have become a symlink meanwhile.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0);

interface Opened {
  fh: fsp.FileHandle;
  stat: BigIntStats;
}

/** Opens a regular file; its validators, length and bytes then all come from this one inode. */
async function openRegular(file: string): Promise<Opened | null> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, OPEN_FLAGS);
  } catch {
    return null;
  }
  try {
    const stat = await fh.stat({ bigint: true });
    if (stat.isFile()) return { fh, stat };
  } catch {
    // fall through: treated as missing
  }
  await fh.close();
  return null;
}

function setEntityHeaders(res: Response, file: string, v: Validators, cache: string): void {
  res.setHeader('Content-Type', contentType(file));
  res.setHeader('Cache-Control', cache);
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('ETag', v.etag);
  if (v.lastModified) res.setHeader('Last-Modified', v.lastModified);
}

function rangeOf(req: Request, size: number, v: Validators): RangeAnswer {
  // A stale If-Range means the client's partial copy is outdated: it gets the whole file.
  const ifRange = req.headers['if-range'];
  const current = Array.isArray(ifRange) ? false : rangeIsCurrent(ifRange, v);
  return current ? parseRange(req.headers.range, size) : { kind: 'whole' };
}

/** Answers from an open file; returns whether the handle went to a stream (which closes it). */
function answer(req: Request, res: Response, file: string, { fh, stat }: Opened, cache: string): boolean {
  const v = validatorsOf(stat);
  setEntityHeaders(res, file, v, cache);
  if (isNotModified(req.headers, v)) {
    res.status(304).end();
    return false;
  }
  const size = Number(stat.size);
  const range = rangeOf(req, size, v);
  if (range.kind === 'unsatisfiable') {
    sendError(res, 416, `range not satisfiable: ${req.headers.range} (size ${size})`, { 'Content-Range': `bytes */${size}` });
    return false;
  }
  const [start, end] = range.kind === 'part' ? [range.start, range.end] : [0, size - 1];
  if (range.kind === 'part') res.status(206).setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
  const length = size === 0 ? 0 : end - start + 1;
  res.setHeader('Content-Length', String(length));
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    return false;
  }
  pipeline(fh.createReadStream({ start, end }), res, (err) => {
    // A client that goes away mid-segment is normal for a player that switches levels.
    if (err && !res.destroyed) res.destroy();
  });
  return true;
}

/**
 * Sends one file with validators, conditional GET and single byte ranges. Length, ETag and
 * bytes are read from one open handle, so a version renamed into place mid-request is never
 * mixed with the one that was opened.
 */
export async function sendFile(req: Request, res: Response, file: string, cache = CACHE_FILES): Promise<void> {
  const opened = await openRegular(file);
  if (!opened) return sendError(res, 404, 'not found');
  let streaming = false;
  try {
    streaming = answer(req, res, file, opened, cache);
  } finally {
    if (!streaming) await opened.fh.close();
  }
}
