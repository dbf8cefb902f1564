import cliProgress from 'cli-progress';

export interface ProgressReporter {
  frame(p: { frame: number; of: number; fps: number; eta_s: number }): void;
  /** Lines for people (stage times, warnings); stderr, so --json stdout stays parseable. */
  note(line: string): void;
  /** The final record: a JSON line with --json, else nothing (the caller prints its own text). */
  summary(value: object): void;
  stop(): void;
}

/**
 * Progress on a TTY is a bar with ETA on stderr; with --json it is one JSON object per line on
 * stdout, throttled, the summary last. Neither, on a non-TTY without --json: quiet until the end.
 */
export function createProgress(opts: { json: boolean; tty?: boolean; label?: string }): ProgressReporter {
  const tty = opts.tty ?? process.stderr.isTTY === true;
  if (opts.json) {
    let last = 0;
    return {
      frame(p) {
        const now = Date.now();
        if (now - last < 250 && p.frame < p.of) return;
        last = now;
        process.stdout.write(`${JSON.stringify({ frame: p.frame, of: p.of, fps: round(p.fps), eta_s: round(p.eta_s) })}\n`);
      },
      note: (line) => process.stderr.write(`${line}\n`),
      summary: (value) => process.stdout.write(`${JSON.stringify(value)}\n`),
      stop() {},
    };
  }
  let bar: cliProgress.SingleBar | undefined;
  return {
    frame(p) {
      if (!tty) return;
      if (!bar) {
        bar = new cliProgress.SingleBar(
          { stream: process.stderr, format: `${opts.label ?? 'encode'} [{bar}] {value}/{total} frames | {fps} fps | ETA {eta_formatted}`, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(p.of, 0, { fps: '0.0' });
      }
      bar.setTotal(Math.max(p.of, p.frame));
      bar.update(p.frame, { fps: p.fps.toFixed(1) });
    },
    note(line) {
      if (bar) bar.stop();
      bar = undefined;
      process.stderr.write(`${line}\n`);
    },
    summary() {},
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}

function round(x: number): number {
  return Number.isFinite(x) ? Math.round(x * 100) / 100 : 0;
}
