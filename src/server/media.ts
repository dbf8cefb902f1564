import path from 'node:path';
import type { Request, Response } from 'express';
import { sendError } from './errors.js';
import { safeSegments, serveFrom } from './files.js';
import { corsHeaders } from './headers.js';
import { outputDir, type Layout } from './outputs.js';

/**
 * Playlists and segments, by extension wherever the encoder puts them: the output's top level
 * or one folder down (a rendition). .m4s/.mp4 are fMP4 segments and init segments.
 */
const STREAM_EXT = new Set(['.m3u8', '.ts', '.m4s', '.mp4']);
const REPORT_FILES = new Set(['report.json', 'report.html', 'report.csv', 'rd.svg']);
/** The per-title ladder's decision, at the output's top level. */
export const LADDER_FILES = new Set(['ladder.json', 'ladder.svg']);
/** compare/<folder>/ holds the files report.html links to, of this one type each. */
const REPORT_LINKS: Record<string, string> = { crops: '.png', streams: '.mp4' };

const ext = (name: string): string => path.extname(name).toLowerCase();
// The same names safeSegments lets through, checked again so this rule stands on its own.
// eslint-disable-next-line no-control-regex
const plain = (name: string): boolean => name !== '' && !name.startsWith('.') && !/[\\/\x00-\x1f\x7f]/.test(name);

function isUpscalerFile(name: string): boolean {
  return name === 'manifest.json' || ext(name) === '.onnx';
}

function isReportFile(rest: string[]): boolean {
  if (rest.length === 1) return REPORT_FILES.has(rest[0]);
  return rest.length === 2 && Object.hasOwn(REPORT_LINKS, rest[0]) && ext(rest[1]) === REPORT_LINKS[rest[0]];
}

/**
 * Whether a path inside an output is one a player or the report needs. Everything else is
 * never served, whatever is on disk: job.json (it names the input on this machine),
 * state.json, the encoder's .work/ and *.tmp files, dotfiles, other folders' files.
 */
export function isServedMediaPath(rel: readonly string[]): boolean {
  if (rel.length === 0 || !rel.every(plain)) return false;
  const [first, ...rest] = rel;
  if (first === 'upscaler') return rest.length === 1 && isUpscalerFile(rest[0]);
  if (first === 'compare') return isReportFile(rest);
  if (rest.length === 0 && LADDER_FILES.has(first)) return true;
  return rel.length <= 2 && STREAM_EXT.has(ext(rel[rel.length - 1]));
}

/** `/media/<output>/<path>`: only files of listed outputs that pass isServedMediaPath. */
export async function serveMedia(layout: Layout, req: Request, res: Response): Promise<void> {
  const segs = safeSegments(req.path);
  if (!segs) return sendError(res, 403, 'forbidden path');
  const [name, ...rel] = segs;
  // Not-served and not-there look the same, so the answer tells nothing about the disk.
  if (!name || !isServedMediaPath(rel) || (await outputDir(layout, name)) === null) return sendError(res, 404, 'not found');
  corsHeaders(res);
  // Containment is always checked against DIR itself, so a symlinked output folder or file
  // that leads outside is refused too.
  await serveFrom(req, res, layout.rootReal, layout.kind === 'single' ? rel : segs);
}
