import type { Command } from 'commander';
import { DEFAULTS } from '../../config.js';
import { runWorker } from '../../encoder/queue/worker.js';
import { positive } from '../flags.js';
import { withAbort } from '../signals.js';

interface WorkerFlags {
  queue: string;
  concurrency?: string;
  stallMs?: string;
  threads?: string;
}

const D = DEFAULTS.worker;

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('encode the chunks that `hcd encode --queue` puts on a Redis queue, until Ctrl-C (input and OUTDIR on a shared filesystem, at the same paths)')
    .requiredOption('--queue <url>', 'redis://[:password@]HOST:PORT[/DB] or rediss://')
    .option('--concurrency <n>', `chunks encoded at once (default "${D.concurrency}")`)
    .option('--stall-ms <ms>', `lock time of a chunk: a killed worker's chunk goes to another worker after about twice this (default "${D.stallMs}")`)
    .option('--threads <n>', 'onnxruntime threads per chunk (default: every core; 1 when several workers share a machine)')
    .action(async (f: WorkerFlags) => {
      await withAbort((signal) =>
        runWorker({
          queue: f.queue,
          concurrency: f.concurrency === undefined ? D.concurrency : positive('concurrency', f.concurrency, true),
          stallMs: f.stallMs === undefined ? D.stallMs : positive('stall-ms', f.stallMs, true),
          threads: f.threads === undefined ? undefined : positive('threads', f.threads, true),
          signal,
          onLog: (line) => process.stderr.write(`${line}\n`),
        }),
      );
    });
}
