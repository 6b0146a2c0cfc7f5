/** The `doctor` verb: prints what can run here (see doctor.ts). */
import { Command } from 'commander';
import { doctorReport } from './doctor-checks.js';
import type { CommandDeps } from './mnist.js';

export function doctorCommand(_deps: CommandDeps): Command {
  return new Command('doctor')
    .description('Check the backends (tensorflow, webgpu, ort-cpu, ort-webgpu, ort-cuda, wasm, cpu) and the MNIST data on this machine.')
    .option('--data-dir <dir>', 'also check this folder for the MNIST files')
    .action(async (opts: { dataDir?: string }) => {
      process.stdout.write(await doctorReport(opts.dataDir ?? '', process.env));
    });
}
