import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Express } from 'express';
import { sendError } from './errors.js';
import { realDir, safeSegments, serveFrom } from './files.js';
import { CACHE_FILES, CACHE_IMMUTABLE } from './send.js';

/** The bundle's copy named by its content hash (src/player/build.ts). */
const HASHED_BUNDLE = /^hcd-player\.[0-9a-f]{10}\.js$/;

/** The hashed bundle's URL from the build's player.json, or undefined when there is none. */
export async function hashedBundleUrl(playerDir: string): Promise<string | undefined> {
  try {
    const info = JSON.parse(await fsp.readFile(path.join(playerDir, 'player.json'), 'utf8')) as { bundle?: unknown };
    return typeof info.bundle === 'string' && HASHED_BUNDLE.test(info.bundle) ? `/player/${info.bundle}` : undefined;
  } catch {
    return undefined;
  }
}

/** `/player/…`: the built bundle; its hashed copy is immutable, everything else revalidates. */
export function mountPlayer(app: Express, playerDir: string): void {
  app.use('/player', async (req, res) => {
    const root = await realDir(playerDir);
    if (!root) return sendError(res, 404, 'player bundle not built (run npm run build:player)');
    const segs = safeSegments(req.path);
    const hashed = segs?.length === 1 && HASHED_BUNDLE.test(segs[0]);
    await serveFrom(req, res, root, segs, hashed ? CACHE_IMMUTABLE : CACHE_FILES);
  });
}
