import type { Command } from 'commander';
import { startServer } from '../../server/app.js';
import { detectLayout, listOutputs } from '../../server/outputs.js';
import { HcdError } from '../../shared/errors.js';

function parsePort(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new HcdError(`serve: --port must be an integer from 0 to 65535, got ${v}`);
  return n;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve encoded outputs (DIR with master.m3u8, or a folder of them) with the demo page')
    .argument('<dir>', 'an encoded output folder, or a folder of them')
    .option('--port <n>', 'port to listen on (0 picks a free one)', parsePort, 8080)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('-v, --verbose', 'log every request')
    .action(async (dir: string, opts: { port: number; host: string; verbose?: boolean }) => {
      const outputs = await listOutputs(detectLayout(dir));
      if (outputs.length === 0) throw new HcdError(`serve: no master.m3u8 in ${dir} or in its subfolders`);
      const server = await startServer({
        root: dir,
        port: opts.port,
        host: opts.host,
        log: opts.verbose ? (line) => process.stdout.write(`${line}\n`) : undefined,
      });
      process.stdout.write(`serving ${outputs.map((o) => o.name).join(', ')} at ${server.url}\n`);

      await new Promise<void>((resolve, reject) => {
        let stopping = false;
        const stop = (signal: NodeJS.Signals) => {
          if (stopping) {
            // A second Ctrl-C means now.
            process.stderr.write(`hcd serve: ${signal} again, exiting\n`);
            process.exit(130);
          }
          stopping = true;
          process.stderr.write(`hcd serve: ${signal}, finishing open requests\n`);
          server.close().then(() => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            resolve();
          }, reject);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
