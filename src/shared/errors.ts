/**
 * An error meant for the person at the terminal: the CLI prints its message as one line
 * and exits with `exitCode`, without a stack trace. Anything else is a bug and keeps its stack.
 */
export class HcdError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    // messages quote what users give (paths, flag values), which may hold line breaks
    super(oneLine(message));
    this.name = 'HcdError';
    this.exitCode = exitCode;
  }
}

/** `s` with line breaks and other control characters escaped, so that it prints as one line. */
function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}
