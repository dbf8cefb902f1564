import compression from 'compression';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** Text, scripts and WASM: what compresses well. Media, images and models are left alone. */
const COMPRESSIBLE = /^(?:text\/|application\/(?:javascript|json|wasm|vnd\.apple\.mpegurl)|image\/svg\+xml)/;

/**
 * Only whole answers are compressed: a 206 carries a byte range of the file itself, and a client
 * asking for a range counts in the file's bytes, so a range request is never compressed.
 */
function worthCompressing(req: Request, res: Response): boolean {
  if (req.headers.range !== undefined || res.statusCode === 206) return false;
  return COMPRESSIBLE.test(String(res.getHeader('Content-Type') ?? ''));
}

/**
 * A compressed answer is another representation of the file, so its entity tag is made weak:
 * If-None-Match still matches it (weak comparison, 304), If-Range never does (strong comparison),
 * so a range is never taken against compressed bytes.
 */
function weakTagWhenEncoded(_req: Request, res: Response, next: NextFunction): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: Response, ...args: Parameters<Response['writeHead']>) {
    const tag = this.getHeader('ETag');
    if (this.getHeader('Content-Encoding') && typeof tag === 'string' && !tag.startsWith('W/')) this.setHeader('ETag', `W/${tag}`);
    return writeHead.apply(this, args);
  } as Response['writeHead'];
  next();
}

/**
 * Brotli or gzip, as the client accepts (brotli at quality 4, compression's default, fast enough
 * for the 14-28 MB onnxruntime-web binaries on the fly), for answers of 1 KB and more.
 */
export function compressResponses(): RequestHandler[] {
  // weakTagWhenEncoded sees the headers after compression has set Content-Encoding: its
  // writeHead wrapper is the inner one, installed first
  return [weakTagWhenEncoded, compression({ filter: worthCompressing })];
}
