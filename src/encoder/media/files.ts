import { renameSync, writeFileSync } from 'node:fs';

/** Writes to a temporary name and renames: a reader (or a crash) never sees half a file. */
export function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}
