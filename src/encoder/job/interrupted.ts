import { HcdError } from '../../shared/errors.js';

/** The one answer to Ctrl-C or SIGTERM: exit code 130, and what survives. */
export function interrupted(): HcdError {
  return new HcdError('interrupted; finished segments are kept, run again with --resume', 130);
}
