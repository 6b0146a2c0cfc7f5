/** The `doctor` verb: prints what can run here (see doctor.ts). */
import { Command } from 'commander';
import type { CommandDeps } from './mnist.js';

export function doctorCommand(_deps: CommandDeps): Command {
  return new Command('doctor')
    .description('Check the backends (tensorflow, webgpu, ort-cpu, ort-webgpu, ort-cuda, wasm, cpu) and the MNIST data on this machine.')
    .option('--data-dir <dir>', 'also check this folder for the MNIST files')
    .action(async (opts: { dataDir?: string }) => {
      // Loaded when the verb runs: the checks load every backend, which other verbs' starts never need.
      const { doctorReport } = await import('./doctor-checks.js');
      process.stdout.write(await doctorReport(opts.dataDir ?? '', process.env));
    });
}
