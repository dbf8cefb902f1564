import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/app.js';
import { makeClip, readMediaPlaylist, runCliInProcess } from './helpers.js';

/**
 * A client that played an encode and kept its ETags, after `hcd encode --force` wrote another
 * encode into the same folder. Playlists keep their names and revalidate to the new bytes; init
 * and media segments carry the job's tag, so the old names are gone (404), never answered with
 * bytes of the new encode that the old init segment cannot decode.
 */
describe('a re-encode into the same folder, seen by a client holding old ETags', () => {
  let dir: string;
  let out: string;
  let input: string;
  let server: RunningServer;
  const args = (preset: string) => ['encode', input, '-o', out, '--model', 'bicubic-x2', '--hcd-iters', '0,0', '--segment', '1', '--renditions', '100k', '--source-renditions', '', '--preset', preset, '--force'];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hcd-reencode-'));
    input = await makeClip(join(dir, 'in.mp4'), { seconds: 1, width: 96, height: 64 });
    out = join(dir, 'clip');
    const r = await runCliInProcess(args('ultrafast'));
    expect(r.code, r.stderr).toBe(0);
    server = await startServer({ root: out, port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const url = (path: string) => new URL(`media/${basename(out)}/${path}`, server.url).href;
  const get = async (path: string, etag?: string) => {
    const r = await fetch(url(path), { headers: etag ? { 'If-None-Match': etag } : {} });
    return { status: r.status, etag: r.headers.get('etag') ?? undefined, cache: r.headers.get('cache-control'), body: Buffer.from(await r.arrayBuffer()) };
  };

  it('gets the new playlists and bytes, and 404 for the old segment names', async () => {
    const playlist = readMediaPlaylist(join(out, 'lr-100k', 'index.m3u8'));
    const paths = ['master.m3u8', 'lr-100k/index.m3u8', 'audio-20k/index.m3u8', `lr-100k/${playlist.map}`, `lr-100k/${playlist.segments[0].uri}`];
    const held = new Map<string, { etag: string; body: Buffer }>();
    for (const p of paths) {
      const r = await get(p);
      expect(r.status, p).toBe(200);
      // revalidated on every use, never kept as immutable
      expect(r.cache).toBe('no-cache');
      held.set(p, { etag: r.etag!, body: r.body });
      expect((await get(p, r.etag)).status, p).toBe(304);
    }

    const again = await runCliInProcess(args('veryfast'));
    expect(again.code, again.stderr).toBe(0);
    const now = readMediaPlaylist(join(out, 'lr-100k', 'index.m3u8'));
    expect(now.map).not.toBe(playlist.map);
    for (const p of paths.slice(0, 3)) {
      const r = await get(p, held.get(p)!.etag);
      expect(r.status, p).toBe(200);
      expect(r.body.equals(readFileSync(join(out, p))), p).toBe(true);
      expect(r.body.equals(held.get(p)!.body), p).toBe(false);
    }
    for (const p of paths.slice(3)) expect((await get(p, held.get(p)!.etag)).status, p).toBe(404);
    for (const p of [`lr-100k/${now.map}`, `lr-100k/${now.segments[0].uri}`]) {
      const r = await get(p);
      expect(r.status, p).toBe(200);
      expect(r.body.equals(readFileSync(join(out, p))), p).toBe(true);
    }
  });

  it('the same job again: the same names and bytes, and what revalidation gives is what is on disk', async () => {
    const before = readFileSync(join(out, 'master.m3u8'));
    const held = await get('master.m3u8');
    const r = await runCliInProcess(args('veryfast'));
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'master.m3u8')).equals(before)).toBe(true);
    const revalidated = await get('master.m3u8', held.etag);
    // a new file under the old name has a new ETag: the bytes come again, the same ones
    expect(revalidated.status).toBe(200);
    expect(revalidated.body.equals(before)).toBe(true);
  });
});
