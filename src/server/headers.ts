import type { NextFunction, Request, Response } from 'express';
import { sendError } from './errors.js';

const ALLOW = 'GET, HEAD, OPTIONS';

/**
 * The demo page's policy. 'wasm-unsafe-eval' lets onnxruntime-web compile its WASM; blob:
 * workers are hls.js's transmuxer; blob: media is Media Source Extensions; data: images are the
 * page's empty favicon. No other origin, no inline script, and no framing (clickjacking).
 */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "style-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** A header value echoed in a preflight answer: header names only, nothing else. */
export function headerList(v: string | undefined): string {
  const names = (v ?? '').split(',').map((s) => s.trim()).filter((s) => /^[A-Za-z0-9-]+$/.test(s));
  return names.length > 0 ? names.join(', ') : 'Range, If-Range, If-None-Match, If-Modified-Since';
}

/**
 * Media may be read by players on other origins; nothing else may (the output list, the page,
 * the runtime files), so only media answers carry CORS and a cross-origin CORP.
 */
export function corsHeaders(res: Response): void {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Expose-Headers', 'Content-Range, Content-Length, Accept-Ranges, ETag');
  res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
}

function preflight(req: Request, res: Response): void {
  if (req.path.startsWith('/media/')) {
    corsHeaders(res);
    res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD');
    res.setHeader('Access-Control-Allow-Headers', headerList(req.headers['access-control-request-headers']));
    res.setHeader('Access-Control-Max-Age', '86400');
    res.setHeader('Vary', 'Access-Control-Request-Headers');
  }
  res.setHeader('Allow', ALLOW);
  res.status(204).end();
}

/**
 * Headers for every response, and the methods. COOP + COEP make the demo page cross-origin
 * isolated, which onnxruntime-web needs for SharedArrayBuffer (WASM threads).
 */
export function baseHeaders(req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (req.method === 'OPTIONS') return preflight(req, res);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return sendError(res, 405, `method ${req.method} not allowed`, { Allow: ALLOW });
  }
  next();
}
