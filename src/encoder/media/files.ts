/**
 * Files that appear whole or not at all: written under a temporary name beside the target, then
 * renamed, so that a reader (the player, a resumed run) or a crash never sees half of one.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, statfsSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { open, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { HcdError } from '../../shared/errors.js';

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

/** Raw frames, one after another, into `file` (a work file: x264 and the trainers read them back). */
export async function writeFrames(file: string, frames: Iterable<Uint8Array>): Promise<void> {
  const fh = await open(file, 'w');
  try {
    for (const f of frames) await fh.write(f);
  } finally {
    await fh.close();
  }
}

/**
 * Waits for every one of `tasks`, then throws the first failure. Writers of temporary files run
 * this way, so that none is still writing when a failure removes the temporaries (Promise.all
 * would reject at the first failure, and a slower writer would then create its file afresh).
 */
export async function allSettled<T>(tasks: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/**
 * The general form, for files that belong together: `produce` writes every temporary file (one
 * per path, in order; ffmpeg outputs, say), then all are renamed into place, so that none
 * appears before every one is complete. On failure the temporary files are removed, so
 * `produce` must not return while it still writes one (see allSettled).
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
    (tmps) => allSettled(files.map(([, data], i) => writeFile(tmps[i], data))),
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

/**
 * Linux pseudo-filesystems by their statfs magic (linux/magic.h). They hold kernel objects, not
 * files: mkdir there fails in ways (ENOENT under an existing /proc) that make Node's recursive
 * mkdir retry forever.
 */
const PSEUDO_FILESYSTEMS = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0xf97cff8c, 'selinuxfs'],
  [0x43415d53, 'smackfs'],
  [0xcafe4a11, 'bpf'],
  [0x6165676c, 'pstore'],
  [0xde5e81e4, 'efivarfs'],
  [0x62656570, 'configfs'],
  [0x65735543, 'fusectl'],
  [0x42494e4d, 'binfmt_misc'],
  [0x19800202, 'mqueue'],
  [0x6e736673, 'nsfs'],
  [0x958458f6, 'hugetlbfs'],
]);

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** The deepest of `abs` and its ancestors that exists (the root always does). */
function nearestExisting(abs: string): { path: string; stat: Stats } {
  for (let p = abs; ; p = dirname(p)) {
    const stat = statOrUndefined(p);
    if (stat || dirname(p) === p) return { path: p, stat: stat ?? statSync(p) };
  }
}

/** The pseudo-filesystem `path` lies on, if any (Linux only; elsewhere undefined). */
function pseudoFilesystem(path: string): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    return PSEUDO_FILESYSTEMS.get(Number(statfsSync(path).type) >>> 0);
  } catch {
    return undefined;
  }
}

/**
 * Refuses, with one line and before any work, a folder that cannot hold output: an existing
 * thing that is not a folder, a path through a file, or a place on a pseudo-filesystem.
 * `what` names the folder in the message.
 */
export function checkOutputFolder(path: string, what = 'output folder'): void {
  if (path.trim() === '') throw new HcdError(`${what} is an empty path`);
  const abs = resolve(path);
  const near = nearestExisting(abs);
  if (!near.stat.isDirectory()) {
    const kind = near.stat.isFile() ? 'a file' : 'a device, socket or pipe';
    if (near.path === abs) throw new HcdError(`${what} ${path} is ${kind}, not a folder`);
    throw new HcdError(`${what} ${path} cannot be made: ${near.path} is ${kind}, not a folder`);
  }
  const fs = pseudoFilesystem(near.path);
  if (fs) throw new HcdError(`${what} ${path} is on ${near.path}, a ${fs} pseudo-filesystem that cannot hold files; choose another folder`);
}

/** True for a write that failed because the disk (or the user's quota) is full, from Node or from ffmpeg's stderr. */
export function isDiskFull(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || (e instanceof Error && /no space left on device|disk quota exceeded/i.test(e.message));
}

const describeCode = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? (e as Error).message.split('\n')[0];

/**
 * Makes the folder `path` and any missing parents, one level at a time, each tried once: unlike
 * a recursive mkdir this ends on every file system. Checked first as checkOutputFolder does.
 */
export function makeFolder(path: string, what = 'output folder'): void {
  checkOutputFolder(path, what);
  const missing: string[] = [];
  for (let p = resolve(path); !statOrUndefined(p)?.isDirectory(); p = dirname(p)) missing.unshift(p);
  for (const p of missing) {
    try {
      mkdirSync(p);
    } catch (e) {
      // made by another process meanwhile
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && statOrUndefined(p)?.isDirectory()) continue;
      throw new HcdError(`cannot create ${what} ${path}: ${describeCode(e)}`);
    }
  }
}
