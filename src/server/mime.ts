import path from 'node:path';

/**
 * Content types by extension. Our own table rather than mime-types, because HLS players care
 * about the exact strings (.m3u8, .m4s) and these must not change with a dependency update.
 */
const TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.ts': 'video/mp2t',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
  '.m4a': 'audio/mp4',
  '.aac': 'audio/aac',
  '.vtt': 'text/vtt; charset=utf-8',
  '.onnx': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.mjs': 'text/javascript; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

export function contentType(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** Where a file is served from decides how long a browser may keep it. */
export type Area = 'media' | 'report' | 'page' | 'player' | 'ort' | 'vendor';

export const CACHE_SEGMENT = 'public, max-age=31536000, immutable';
export const CACHE_MODEL = 'public, max-age=31536000';
export const CACHE_PACKAGE = 'public, max-age=86400';
export const CACHE_NONE = 'no-cache';

const SEGMENT_EXT = new Set(['.ts', '.m4s', '.mp4', '.m4a', '.aac', '.vtt']);

export function cacheControl(file: string, area: Area): string {
  const ext = path.extname(file).toLowerCase();
  switch (area) {
    case 'media':
      // Segments get a new name whenever their content changes; playlists, manifests and
      // reports are rewritten in place and must be revalidated.
      if (SEGMENT_EXT.has(ext)) return CACHE_SEGMENT;
      if (ext === '.onnx') return CACHE_MODEL;
      return CACHE_NONE;
    case 'report':
      // OUTDIR/compare/: a new `hcd compare` run rewrites its streams and crops under the
      // same names, so nothing there may be kept without revalidation, not even the .mp4s.
      return CACHE_NONE;
    case 'ort':
    case 'vendor':
      // Pinned package versions: they change only with package-lock.json.
      return CACHE_PACKAGE;
    case 'page':
    case 'player':
      return CACHE_NONE;
  }
}
