import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Express } from 'express';
import { sendError } from './errors.js';
import { realDir, safeSegments, serveFrom } from './files.js';
import { CACHE_FILES, CACHE_IMMUTABLE } from './send.js';

const requireHere = createRequire(import.meta.url);
const ORT_FILE = /^ort[\w.-]*\.(?:wasm|mjs|js)$/;
const HLS_FILE = /^hls(?:\.light)?(?:\.min)?\.m?js$/;

/** onnxruntime-web's and hls.js's files, and the versions their URLs carry. */
export interface Runtime {
  ortDir: string;
  ortVersion: string;
  hlsDir: string;
  hlsVersion: string;
}

function versionIn(dir: string): string {
  return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The installed packages (onnxruntime-web's dist folder may be given instead). */
export function installedRuntime(ortDir?: string): Runtime {
  const ortDist = ortDir ?? path.dirname(requireHere.resolve('onnxruntime-web'));
  const hlsPkg = path.dirname(requireHere.resolve('hls.js/package.json'));
  return { ortDir: ortDist, ortVersion: versionIn(path.dirname(ortDist)), hlsDir: path.join(hlsPkg, 'dist'), hlsVersion: versionIn(hlsPkg) };
}

/** The URLs a page loads the runtime from: versioned, so cached for good. */
export function runtimeUrls(rt: Runtime): { ort: string; hls: string } {
  return { ort: `/ort/${rt.ortVersion}/`, hls: `/vendor/hls.js/${rt.hlsVersion}/hls.min.js` };
}

/**
 * `/ort/<version>/<file>` and `/vendor/hls.js/<version>/<file>`: immutable, and 404 for any
 * other version than the installed one. The unversioned `/ort/<file>` and `/vendor/hls.min.js`
 * serve the same files with revalidation.
 */
export function mountRuntime(app: Express, rt: Runtime): void {
  app.use('/ort', async (req, res) => {
    const segs = safeSegments(req.path);
    if (!segs) return sendError(res, 403, 'forbidden path');
    const versioned = segs.length === 2 && segs[0] === rt.ortVersion;
    const name = versioned ? segs[1] : segs.length === 1 ? segs[0] : '';
    const root = await realDir(rt.ortDir);
    if (!root || !ORT_FILE.test(name)) return sendError(res, 404, 'not found');
    await serveFrom(req, res, root, [name], versioned ? CACHE_IMMUTABLE : CACHE_FILES);
  });

  app.get('/vendor/hls.min.js', async (req, res) => {
    const root = await realDir(rt.hlsDir);
    if (!root) return sendError(res, 404, 'hls.js is not installed');
    await serveFrom(req, res, root, ['hls.min.js']);
  });

  app.get('/vendor/hls.js/:version/:file', async (req, res) => {
    const { version, file } = req.params;
    const root = await realDir(rt.hlsDir);
    if (!root || version !== rt.hlsVersion || !HLS_FILE.test(file)) return sendError(res, 404, 'not found');
    await serveFrom(req, res, root, [file], CACHE_IMMUTABLE);
  });
}
