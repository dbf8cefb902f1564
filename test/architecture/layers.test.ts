import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);
const probes: string[] = [];

/** A module written into src/ for one check; removed after each test. */
function probe(rel: string, text: string): string {
  const path = join(ROOT, rel);
  writeFileSync(path, text);
  probes.push(path);
  return rel;
}

/** dependency-cruiser with the project's rules on the given files: exit code and report. */
async function cruise(files: string[]): Promise<{ code: number; out: string }> {
  const bin = join(ROOT, 'node_modules', '.bin', 'depcruise');
  try {
    const r = await run(bin, [...files, '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], { cwd: ROOT });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout + err.stderr };
  }
}

afterEach(() => {
  for (const p of probes.splice(0)) rmSync(p, { force: true });
});

describe('architecture rules (npm run arch)', () => {
  it('refuse an import that points up the layers', async () => {
    const file = probe('src/shared/arch-probe-up.ts', "import type { Job } from '../encoder/job/state.js';\nexport type Probe = Job;\n");
    const r = await cruise([file]);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/shared-imports-down-only/);
    expect(r.out).toMatch(/src\/shared\/arch-probe-up\.ts → src\/encoder\/job\/state\.ts/);
  });

  it('refuse the player importing the encoder, and Node built-ins in browser code', async () => {
    const file = probe('src/player/arch-probe.ts', "import { readFileSync } from 'node:fs';\nimport { ffmpegPath } from '../encoder/media/ffmpeg.js';\nexport const probe = [readFileSync, ffmpegPath];\n");
    const r = await cruise([file]);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/player-imports-down-only/);
    expect(r.out).toMatch(/browser-safe/);
  });

  it('refuse an import cycle', async () => {
    const a = probe('src/compare/arch-probe-a.ts', "import { b } from './arch-probe-b.js';\nexport const a = () => b;\n");
    const b = probe('src/compare/arch-probe-b.ts', "import { a } from './arch-probe-a.js';\nexport const b = () => a;\n");
    const r = await cruise([a, b]);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/no-cycles/);
  });

  it('accept imports that point down', async () => {
    const file = probe('src/compare/arch-probe-down.ts', "import { HcdError } from '../shared/errors.js';\nimport { probe } from '../encoder/media/ffmpeg.js';\nexport const ok = [HcdError, probe];\n");
    const r = await cruise([file]);
    expect(r.out).not.toMatch(/error/);
    expect(r.code).toBe(0);
  });
});
