import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Express } from 'express';
import { sendError } from './errors.js';
import { realDir, safeSegments, serveFrom } from './files.js';
import { CACHE_FILES, CACHE_IMMUTABLE } from './send.js';

/** The bundle's copy named by its content hash, and the lean hls.js (src/player/build.ts). */
const HASHED_BUNDLE = /^hcd-player\.[0-9a-f]{10}\.js$/;
const HASHED_HLS = /^hls\.hcd\.[0-9a-f]{10}\.js$/;
const isHashed = (name: string): boolean => HASHED_BUNDLE.test(name) || HASHED_HLS.test(name);

/** The URLs of the build's hashed files, from its player.json; each undefined when not built. */
export async function builtUrls(playerDir: string): Promise<{ player?: string; hls?: string }> {
  let info: { bundle?: unknown; hls?: unknown };
  try {
    info = JSON.parse(await fsp.readFile(path.join(playerDir, 'player.json'), 'utf8')) as typeof info;
  } catch {
    return {};
  }
  const url = (name: unknown, re: RegExp) => (typeof name === 'string' && re.test(name) ? `/player/${name}` : undefined);
  return { player: url(info.bundle, HASHED_BUNDLE), hls: url(info.hls, HASHED_HLS) };
}

/** `/player/…`: the built bundle; its hashed files are immutable, everything else revalidates. */
export function mountPlayer(app: Express, playerDir: string): void {
  app.use('/player', async (req, res) => {
    const root = await realDir(playerDir);
    if (!root) return sendError(res, 404, 'player bundle not built (run npm run build:player)');
    const segs = safeSegments(req.path);
    const hashed = segs?.length === 1 && isHashed(segs[0]);
    await serveFrom(req, res, root, segs, hashed ? CACHE_IMMUTABLE : CACHE_FILES);
  });
}
