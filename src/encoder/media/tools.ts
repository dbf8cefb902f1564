/**
 * Where the ffmpeg and ffprobe binaries are, and what to tell the person at the terminal when one
 * cannot be started. A binary that will not start is never a property of the input, so it gets
 * its own error (ToolError) that callers let through instead of saying "not a video file".
 */
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { HcdError } from '../../shared/errors.js';

export type Tool = 'ffmpeg' | 'ffprobe';

/** A binary to start: its name in messages, its path, and where that path came from. */
export interface Binary {
  name: string;
  path: string;
  /** The variable that overrides the path, and whether it did. */
  env?: { name: string; set: boolean };
  /** The npm package that bundles it. */
  pkg?: string;
}

const ENV: Record<Tool, string> = { ffmpeg: 'FFMPEG_PATH', ffprobe: 'FFPROBE_PATH' };
const PACKAGE: Record<Tool, string> = { ffmpeg: '@ffmpeg-installer/ffmpeg', ffprobe: '@ffprobe-installer/ffprobe' };

/** The bundled binary cannot be started (missing, not executable): the fix, not the symptom. */
export class ToolError extends HcdError {
  constructor(message: string) {
    super(message);
    this.name = 'ToolError';
  }
}

const REASON: Record<string, string> = { EACCES: 'permission denied', ENOENT: 'no such file', EPERM: 'operation not permitted', ENOEXEC: 'not an executable for this machine' };

function fix(b: Binary, code: string | undefined): string {
  const orSet = b.env ? ` or set ${b.env.name}` : '';
  if (code === 'EACCES' || code === 'EPERM') return `make it executable (chmod +x)${orSet}`;
  if (b.env?.set) return `point ${b.env.name} at a working ${b.name}, or unset it to use the bundled one`;
  if (b.pkg) return `reinstall ${b.pkg}${orSet}`;
  return 'check the path';
}

/** The one line for a binary that could not be started. */
export function cannotRun(b: Binary, e: NodeJS.ErrnoException): ToolError {
  const reason = (e.code && REASON[e.code]) || e.message;
  return new ToolError(`cannot run ${b.name} at ${b.path}: ${reason}${e.code ? ` (${e.code})` : ''}; ${fix(b, e.code)}`);
}

const require = createRequire(import.meta.url);

function installerPath(pkg: string): string | undefined {
  try {
    return (require(pkg) as { path: string }).path;
  } catch {
    return undefined;
  }
}

/**
 * The binary for `tool`: its variable wins, else the bundled one. Checked with access(X_OK) here,
 * so that a missing or non-executable binary fails at the first call with one clear line, before
 * any work, rather than as a spawn error deep inside a decode.
 */
export function toolBinary(tool: Tool): Binary {
  const fromEnv = process.env[ENV[tool]];
  const path = fromEnv || installerPath(PACKAGE[tool]);
  if (!path) throw new ToolError(`${tool} not found: set ${ENV[tool]} or install ${PACKAGE[tool]}`);
  const b: Binary = { name: tool, path, env: { name: ENV[tool], set: !!fromEnv }, pkg: PACKAGE[tool] };
  try {
    accessSync(path, constants.X_OK);
  } catch (e) {
    throw cannotRun(b, e as NodeJS.ErrnoException);
  }
  return b;
}

/** The ffmpeg binary: FFMPEG_PATH wins, else the one bundled by @ffmpeg-installer/ffmpeg. */
export function ffmpegPath(): string {
  return toolBinary('ffmpeg').path;
}

/** The ffprobe binary: FFPROBE_PATH wins, else the one bundled by @ffprobe-installer/ffprobe. */
export function ffprobePath(): string {
  return toolBinary('ffprobe').path;
}

/**
 * A file path as an ffmpeg/ffprobe argument. The `file:` protocol prefix keeps a name that
 * starts with '-' from being read as an option (ffprobe takes its input as a bare operand) and
 * one with a ':' from being read as a protocol; ffmpeg and ffprobe 4.x both accept it.
 */
export function fileArg(path: string): string {
  return `file:${path}`;
}
