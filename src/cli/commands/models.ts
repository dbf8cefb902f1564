import { readdir } from 'node:fs/promises';
import type { Command } from 'commander';
import { builtinPairIds, graphProblems, modelsDir, resolvePair } from '../../encoder/pairs/index.js';

/** Pair folders under models/ (own trained pairs), cache/ excluded. */
async function ownPairIds(): Promise<string[]> {
  try {
    const entries = await readdir(modelsDir(), { withFileTypes: true });
    return entries.filter((e) => e.isDirectory() && e.name !== 'cache' && !e.name.includes('.tmp-')).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

export function registerModels(program: Command): void {
  program
    .command('models')
    .description('list the rescaling pairs: built-ins and own pairs under models/ (converts the RDN pairs on first use)')
    .option('--json', 'print the manifests as JSON')
    .action(async (opts: { json?: boolean }) => {
      const ids = [...builtinPairIds(), ...(await ownPairIds())];
      const rows: string[] = [];
      const manifests = [];
      for (const id of ids) {
        const p = await resolvePair(id);
        manifests.push(p.manifest);
        const m = p.manifest;
        const problems = [...graphProblems(p.downscaler), ...graphProblems(p.upscaler), ...(p.stillUpscaler ? graphProblems(p.stillUpscaler) : [])];
        rows.push(
          [
            id.padEnd(14),
            `x${m.scale}`,
            `D ${m.downscaler.params} params ${m.downscaler.macsPerPixel} MACs/LR px`.padEnd(36),
            `U ${m.upscaler.params} params ${m.upscaler.macsPerPixel} MACs/HR px${m.stillUpscaler ? ` (+ still U ${m.stillUpscaler.params})` : ''}`.padEnd(40),
            problems.length ? `PROBLEMS: ${problems.join('; ')}` : m.description,
          ].join('  '),
        );
      }
      process.stdout.write(opts.json ? `${JSON.stringify(manifests, null, 2)}\n` : `${rows.join('\n')}\n`);
    });
}
