/**
 * `npm run bench`: runs every benchmark in bench/ in turn, each in its own process so that one
 * benchmark's threads and caches do not disturb the next. Each prints its own ratios, measured
 * within its run; this script only collects their last lines.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const benches = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run-all.ts' && !f.startsWith('_'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const summary: string[] = [];
let failed = 0;
for (const b of benches) {
  process.stdout.write(`\n== bench/${b}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, b)], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  process.stdout.write(r.stdout ?? '');
  const last = (r.stdout ?? '').trim().split('\n').filter((l) => /^[\w.]+=/.test(l));
  if (r.status !== 0) {
    failed++;
    summary.push(`${b}: FAILED (exit ${r.status})`);
  } else summary.push(...last.map((l) => `${b}: ${l}`));
}
process.stdout.write(`\n== summary\n${summary.join('\n')}\n`);
process.exitCode = failed ? 1 : 0;
