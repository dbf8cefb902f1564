import { HcdError } from '../../shared/errors.js';

/** The one answer to Ctrl-C or SIGTERM: exit code 130, and what survives. */
export function interrupted(): HcdError {
  return new HcdError('interrupted; finished segments are kept, run again with --resume', 130);
}

/** The one answer to a full disk under OUTDIR, and what survives. */
export function diskFull(outdir: string): HcdError {
  return new HcdError(`no space left on the device of ${outdir}; finished segments are kept: free some space and run again with --resume`);
}
