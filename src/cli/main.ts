import { Command, CommanderError } from 'commander';
import { HcdError } from '../shared/errors.js';
import { registerSample } from './commands/sample.js';
import { registerCompare } from './commands/compare.js';
import { registerDemo } from './commands/demo.js';
import { registerEncode } from './commands/encode.js';
import { registerServe } from './commands/serve.js';
import { registerImage } from './commands/image.js';
import { registerEval } from './commands/eval.js';
import { registerModels } from './commands/models.js';
import { registerTrain } from './commands/train.js';
import { registerTrainData } from './commands/train-data.js';
import { registerWorker } from './commands/worker.js';

/** Every command registers itself here; a command that does not exist yet is simply absent. */
export function buildProgram(): Command {
  const program = new Command('hcd')
    .description('Hierarchical Collaborative Downscaling for video streaming')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  registerSample(program);
  registerCompare(program);
  registerDemo(program);
  registerEncode(program);
  registerServe(program);
  registerImage(program);
  registerEval(program);
  registerModels(program);
  registerTrain(program);
  registerTrainData(program);
  registerWorker(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode;
      return;
    }
    if (e instanceof HcdError) {
      process.stderr.write(`hcd: ${e.message}\n`);
      process.exitCode = e.exitCode;
      return;
    }
    throw e;
  }
}
