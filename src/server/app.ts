import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response } from 'express';
import { HcdError } from '../shared/errors.js';
import { compressResponses } from './compress.js';
import { sendError } from './errors.js';
import { realDir, resolveInside, safeSegments, serveFrom } from './files.js';
import { baseHeaders, PAGE_CSP } from './headers.js';
import { serveMedia } from './media.js';
import { detectLayout, listOutputs } from './outputs.js';
import { sendPage } from './page.js';
import { builtUrls, mountPlayer } from './player.js';
import { installedRuntime, mountRuntime, runtimeUrls } from './runtime.js';

export interface AppOptions {
  /** One encoded output (has master.m3u8) or a folder of them. */
  root: string;
  /** The built player bundle; default `dist/player/` in the repository. */
  playerDir?: string;
  /** onnxruntime-web's dist folder; default the installed package's. */
  ortDir?: string;
  /** Called with one line per finished request. */
  log?: (line: string) => void;
  /** Compress text, scripts and WASM for clients that accept it (default true). */
  compress?: boolean;
}

export interface ServerOptions extends AppOptions {
  port: number;
  host: string;
  /** How long close() lets in-flight responses run before cutting their sockets. */
  graceMs?: number;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(here, '..', '..');
export const DEFAULT_PLAYER_DIR = path.join(REPO_ROOT, 'dist', 'player');
const PUBLIC_DIR = path.join(here, 'public');
const PAGE_PATHS = new Set(['/', '/index.html']);

function accessLog(log: (line: string) => void) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const t0 = performance.now();
    res.on('finish', () => log(`${req.method} ${req.originalUrl} ${res.statusCode} ${(performance.now() - t0).toFixed(1)}ms`));
    next();
  };
}

export function createApp(opts: AppOptions): express.Express {
  const layout = detectLayout(opts.root);
  const playerDir = opts.playerDir ?? DEFAULT_PLAYER_DIR;
  const runtime = installedRuntime(opts.ortDir);

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  if (opts.log) app.use(accessLog(opts.log));
  app.use(baseHeaders);
  if (opts.compress ?? true) app.use(compressResponses());

  app.get('/api/outputs', async (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(await listOutputs(layout));
  });

  app.use('/media', (req, res) => serveMedia(layout, req, res));
  mountPlayer(app, playerDir);
  mountRuntime(app, runtime);
  app.use('/api', (_req, res) => sendError(res, 404, 'not found'));

  // The demo page and its assets, at the top level.
  app.use(async (req, res) => {
    res.setHeader('Content-Security-Policy', PAGE_CSP);
    const root = await realDir(PUBLIC_DIR);
    if (!root) return sendError(res, 404, 'not found');
    if (!PAGE_PATHS.has(req.path)) return serveFrom(req, res, root, safeSegments(req.path));
    const page = await resolveInside(root, ['index.html']);
    if (page.kind !== 'file') return sendError(res, 404, 'not found');
    const built = await builtUrls(playerDir);
    // the lean hls.js of the player's build where there is one, else the installed full build
    await sendPage(req, res, page.file, { ...runtimeUrls(runtime), ...(built.hls ? { hls: built.hls } : {}), player: built.player });
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    // Details go to the terminal, not to whoever sent the request.
    process.stderr.write(`hcd serve: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    sendError(res, 500, 'internal error');
  });
  return app;
}

function urlHost(address: string, family: string): string {
  if (address === '0.0.0.0' || address === '::') return 'localhost';
  return family === 'IPv6' ? `[${address}]` : address;
}

/**
 * Listens on host:port (port 0 picks a free one). close() stops accepting, lets in-flight
 * responses finish, drops idle keep-alive sockets at once and cuts the rest after graceMs.
 */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const app = createApp(opts);
  const server = http.createServer(app);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') reject(new HcdError(`serve: port ${opts.port} is already in use on ${opts.host}`));
      else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') reject(new HcdError(`serve: cannot listen on host ${opts.host}`));
      else if (e.code === 'EACCES') reject(new HcdError(`serve: no permission to listen on port ${opts.port}`));
      else reject(e);
    };
    server.once('error', onError);
    server.listen(opts.port, opts.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${urlHost(addr.address, addr.family)}:${addr.port}/`;

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), opts.graceMs ?? 5_000);
      timer.unref();
      // Keep-alive sockets that finish their last response while we wait are idle now.
      const sweep = setInterval(() => server.closeIdleConnections(), 100);
      sweep.unref();
      server.once('close', () => {
        clearTimeout(timer);
        clearInterval(sweep);
      });
    });
    return closing;
  };
  return { url, close };
}
