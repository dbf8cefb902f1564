import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import type { Request, Response } from 'express';
import { isNotModified } from './conditional.js';
import { CACHE_FILES } from './send.js';

/** Where the demo page loads its runtime from. */
export interface PageUrls {
  hls: string;
  /** onnxruntime-web's folder (the player's wasmPaths). */
  ort: string;
  /** The content-hashed player bundle, once built. */
  player?: string;
}

const attr = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/**
 * The page with the runtime's versioned URLs: the hls.js script tag points at its version, and
 * meta tags tell demo.js where the player bundle and onnxruntime-web are. The page itself is
 * small and revalidated; what it names can then be cached for good.
 */
export function renderPage(html: string, urls: PageUrls): string {
  const metas = [`<meta name="hcd-ort" content="${attr(urls.ort)}">`];
  if (urls.player) metas.push(`<meta name="hcd-player" content="${attr(urls.player)}">`);
  return html.replace('src="/vendor/hls.min.js"', `src="${attr(urls.hls)}"`).replace('</head>', `  ${metas.join('\n  ')}\n</head>`);
}

/** Sends the rendered page, with an ETag of its bytes (so a new build or version gives a new tag). */
export async function sendPage(req: Request, res: Response, file: string, urls: PageUrls): Promise<void> {
  const body = Buffer.from(renderPage(await fsp.readFile(file, 'utf8'), urls));
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', CACHE_FILES);
  res.setHeader('ETag', etag);
  if (isNotModified(req.headers, { etag, lastModified: null, modifiedSecond: 0 })) {
    res.status(304).end();
    return;
  }
  res.setHeader('Content-Length', String(body.length));
  res.end(req.method === 'HEAD' ? undefined : body);
}
