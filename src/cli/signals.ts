/**
 * Ctrl-C and SIGTERM while a job runs. The first aborts the job, which stops cleanly (finished
 * work kept, exit 130 from its HcdError). A process must still end when asked: if the clean-up
 * has not ended it within the grace time, or a second signal comes, it exits at once.
 */
import { interrupted } from '../encoder/job/interrupted.js';

/** How long a clean stop may take before the process exits without it. */
export const GRACE_MS = 5000;

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** Runs `fn` with an AbortSignal that the first SIGINT or SIGTERM aborts. */
export async function withAbort<T>(fn: (signal: AbortSignal) => Promise<T>, graceMs = GRACE_MS): Promise<T> {
  const abort = new AbortController();
  const stop = interrupted();
  let settled = false;
  const exitNow = (): never => {
    // once fn has settled, the command's own error line is out already
    if (!settled) process.stderr.write(`hcd: ${stop.message}\n`);
    process.exit(stop.exitCode);
  };
  const onSignal = (): void => {
    if (abort.signal.aborted) exitNow();
    abort.abort();
    // unref'd: a process that ends by itself is not held up by it
    setTimeout(exitNow, graceMs).unref();
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  try {
    return await fn(abort.signal);
  } finally {
    settled = true;
    // after an abort the handlers stay, so that a second signal still exits at once
    if (!abort.signal.aborted) for (const s of SIGNALS) process.off(s, onSignal);
  }
}
