/**
 * Build steps that take seconds (compiling the WASM kernel, bundling hls.js) are cached in the
 * temp folder under a key of everything their output depends on, so that every test and benchmark
 * build does not redo them. Written to a private name and renamed: a crash never leaves half a
 * file under the key.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function cachedBuild(name: string, make: () => Promise<Uint8Array>): Promise<Uint8Array<ArrayBuffer>> {
  const cached = join(tmpdir(), name);
  if (existsSync(cached)) return new Uint8Array(readFileSync(cached));
  const bytes = await make();
  const tmp = `${cached}.${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, cached);
  return new Uint8Array(bytes);
}
