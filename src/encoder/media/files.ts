/**
 * Files that appear whole or not at all: written under a temporary name beside the target, then
 * renamed, so that a reader (the player, a resumed run) or a crash never sees half of one.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * The temporary name for `path`: in the same folder (a rename is atomic only within one file
 * system), hidden (a leading dot, so folder listings, `hcd eval` and the server skip it), unique
 * to this process and call (two writers never share one), and ending in `.tmp`, which is what an
 * interrupted encode sweeps away on --resume. `ext` follows for tools that pick a format by the
 * name, as ffmpeg does.
 */
export function tempPath(path: string, ext = ''): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp${ext}`);
}

/** Writes `data` to `path` atomically (synchronous form). */
export function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = tempPath(path);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * The general form, for files that belong together: `produce` writes every temporary file (one
 * per path, in order; ffmpeg outputs, say), then all are renamed into place, so that none
 * appears before every one is complete. On failure the temporary files are removed.
 */
export async function commitAtomic(paths: string[], produce: (tmps: string[]) => Promise<unknown>, ext = ''): Promise<void> {
  const tmps = paths.map((p) => tempPath(p, ext));
  try {
    await produce(tmps);
    for (let i = 0; i < paths.length; i++) await rename(tmps[i], paths[i]);
  } catch (e) {
    await Promise.all(tmps.map((t) => rm(t, { force: true })));
    throw e;
  }
}

/** Writes several files that belong together atomically (see commitAtomic). */
export async function writeFilesAtomic(files: [path: string, data: string | Uint8Array][]): Promise<void> {
  await commitAtomic(
    files.map(([path]) => path),
    (tmps) => Promise.all(files.map(([, data], i) => writeFile(tmps[i], data))),
  );
}

/** Writes `data` to `path` atomically. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await writeFilesAtomic([[path, data]]);
}

/** Makes `path` with `produce`, which writes the file it is given, atomically. */
export async function produceAtomic(path: string, produce: (tmp: string) => Promise<unknown>, ext = ''): Promise<void> {
  await commitAtomic([path], ([tmp]) => produce(tmp), ext);
}
