import { createReadStream, promises as fsp, type Stats } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream';
import type { Request, Response } from 'express';
import { cacheControl, contentType, type Area } from './mime.js';

/** A JSON error body: every failure the server answers looks like `{"error": "..."}`. */
export function sendError(res: Response, status: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const h of ['Content-Range', 'Content-Length', 'ETag', 'Last-Modified', 'Accept-Ranges']) res.removeHeader(h);
  res.setHeader('Cache-Control', 'no-store');
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.status(status).json({ error: message });
}

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

/** Answers a request for a path below `rootReal` with the file or a JSON error. */
export async function serveFrom(req: Request, res: Response, rootReal: string, segments: string[] | null, area: Area): Promise<void> {
  if (!segments || segments.length === 0) {
    sendError(res, segments ? 404 : 403, segments ? 'not found' : 'forbidden path');
    return;
  }
  const found = await resolveInside(rootReal, segments);
  if (found.kind === 'forbidden') return sendError(res, 403, 'forbidden path');
  if (found.kind === 'missing') return sendError(res, 404, 'not found');
  sendFile(req, res, found.file, found.stat, area);
}

/**
 * Sends one file with validators, conditional GET and single byte ranges. Multi-range requests
 * get the whole file (RFC 9110 lets a server ignore Range); media players only ask for one.
 */
export function sendFile(req: Request, res: Response, file: string, stat: Stats, area: Area): void {
  const size = stat.size;
  const etag = `W/"${size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
  res.setHeader('Content-Type', contentType(file));
  res.setHeader('Cache-Control', cacheControl(file, area));
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('ETag', etag);
  res.setHeader('Last-Modified', stat.mtime.toUTCString());

  if (req.fresh) {
    res.status(304).end();
    return;
  }

  let start = 0;
  let end = size - 1;
  const rangeHeader = req.headers.range;
  const ifRange = req.headers['if-range'];
  // If-Range with a stale validator means "send it all": the client's partial copy is outdated.
  const rangeApplies = rangeHeader !== undefined && (ifRange === undefined || ifRange === etag || ifRange === stat.mtime.toUTCString());
  if (rangeApplies) {
    const ranges = req.range(size, { combine: true });
    if (ranges === -1) {
      sendError(res, 416, `range not satisfiable: ${rangeHeader} (size ${size})`, { 'Content-Range': `bytes */${size}` });
      return;
    }
    if (ranges !== -2 && ranges !== undefined && ranges.type === 'bytes' && ranges.length === 1) {
      start = ranges[0].start;
      end = ranges[0].end;
      res.status(206);
      res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
    }
  }
  const length = size === 0 ? 0 : end - start + 1;
  res.setHeader('Content-Length', String(length));
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    return;
  }
  const stream = createReadStream(file, { start, end });
  pipeline(stream, res, (err) => {
    // A client that goes away mid-segment is normal for a player that switches levels.
    if (err && !res.destroyed) res.destroy();
  });
}
