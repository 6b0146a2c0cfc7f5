/**
 * The command-line program: verbs -> typed options. Exit codes are decided here (see errors.ts):
 * a user error prints one sentence and exits 1 (runtime) or 2 (usage); anything else is a bug,
 * printed with its stack only under --debug.
 */
import { Command, CommanderError } from 'commander';
import { ownVersion } from './core/version.js';
import { doctorCommand } from './commands/doctor.js';
import { mergeCommand } from './commands/merge.js';
import { mnistCommand } from './commands/mnist.js';
import { plotCommand } from './commands/plot.js';
import { reportCommand } from './commands/report.js';
import { sweepCommand } from './commands/sweep.js';
import { refuseRepeatedOptions } from './commands/flags.js';
import { EXIT, asUserError } from './core/errors.js';
import { consoleLogger } from './core/logger.js';

/**
 * Commander's messages as the one `error:` line every user error gets: its suggestion ("(Did
 * you mean --steps?)") is on a second line, so the lines are joined and the help hint appended.
 */
function oneLineError(commandName: string) {
  return (str: string, write: (s: string) => void): void => {
    const text = printable(
      str
        .trim()
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '')
        .join(' '),
    );
    write(`${text.replace(/\.$/, '')}; see ${commandName} --help.\n`);
  };
}

/** Longest message printed whole; a 5,000-character path the user typed is shown by its ends. */
const MAX_MESSAGE_CHARS = 1000;

/**
 * A message as one printable line: a path or file content holding a newline, NUL or terminal
 * escape (a binary file given as --config) is shown with \xNN escapes, not written raw.
 */
export function printable(message: string): string {
  const line = message.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  if (line.length <= MAX_MESSAGE_CHARS) return line;
  const half = MAX_MESSAGE_CHARS / 2;
  return `${line.slice(0, half)} ... ${line.slice(-half)}`;
}

export async function main(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const debug = argv.includes('--debug');
  const program = new Command('bn-repro')
    .description('Reproduces Ioffe & Szegedy (2015), Batch Normalization, Sec. 4.1 / Figure 1 (MNIST).')
    .version(ownVersion())
    .option('--debug', 'print stack traces of internal errors')
    .exitOverride()
    .configureOutput({ outputError: oneLineError('bn-repro') });
  const deps = { makeLogger: (quiet: boolean) => consoleLogger({ quiet }), setExit: (c: number) => (exitCode = c) };
  for (const make of [mnistCommand, sweepCommand, plotCommand, reportCommand, mergeCommand, doctorCommand]) {
    const cmd = make(deps);
    program.addCommand(cmd.exitOverride().configureOutput({ outputError: oneLineError(`bn-repro ${cmd.name()}`) }));
  }
  refuseRepeatedOptions(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed its one-line message (or the help / version text).
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const userError = asUserError(err);
    if (userError) {
      process.stderr.write(`error: ${printable(userError.message)}\n`);
      return userError.exitCode;
    }
    process.stderr.write(`internal error: ${(err as Error).message}\n`);
    if (debug) process.stderr.write(`${(err as Error).stack}\n`);
    else process.stderr.write('(run again with --debug for the stack trace)\n');
    return EXIT.internal;
  }
  return exitCode;
}
