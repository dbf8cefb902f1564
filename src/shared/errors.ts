/**
 * An error meant for the person at the terminal: the CLI prints its message as one line
 * and exits with `exitCode`, without a stack trace. Anything else is a bug and keeps its stack.
 */
export class HcdError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'HcdError';
    this.exitCode = exitCode;
  }
}
