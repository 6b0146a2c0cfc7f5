/**
 * `--sbatch "OPTIONS"`: read as sbatch options, never evaluated by a shell. The text is split at
 * spaces into tokens; each option is `--name=value`, `--name [value]` or `-X [value]`, and each of
 * its tokens is later written quoted into both scripts' #SBATCH lines (quote.ts). Refused, as one
 * usage sentence naming the token: a control character (a newline would end the #SBATCH line and
 * start a command), quotes or backslashes (nothing unquotes them here, so they would reach sbatch
 * as they are), a word that is not an option, and the options that bn-repro sets itself or whose
 * answer it reads. sbatch takes any unambiguous abbreviation of a long option (`--ou` is
 * `--output`), so an abbreviation of a refused option is refused too.
 */
import { UsageError } from '../core/errors.js';
import { CONTROL_CHARACTER, printable } from './quote.js';

/** Why bn-repro keeps these long options for itself, by option. */
const RESERVED_LONG: Record<string, string> = {
  array: 'bn-repro sets it from --slurm N',
  output: "bn-repro sends each task's output to DIR/slurm/logs/",
  error: "bn-repro sends each task's output to DIR/slurm/logs/",
  'open-mode': "bn-repro appends a requeued task's output to its log",
  signal: 'bn-repro asks for USR1 before the time limit, to checkpoint and requeue',
  'no-requeue': 'a task stopped by its time limit requeues itself and resumes from its checkpoint',
  dependency: 'bn-repro chains the merge job after the array itself',
  'kill-on-invalid-dep': 'bn-repro chains the merge job after the array itself',
  wrap: 'the generated scripts are the jobs',
  parsable: "bn-repro reads sbatch's answer (the job id) itself",
  'test-only': "bn-repro reads sbatch's answer (the job id) itself",
  wait: "bn-repro reads sbatch's answer (the job id) itself; use bn-repro's --wait",
  help: "bn-repro reads sbatch's answer (the job id) itself",
  usage: "bn-repro reads sbatch's answer (the job id) itself",
  version: "bn-repro reads sbatch's answer (the job id) itself",
};

/** The short forms of reserved options. */
const RESERVED_SHORT: Record<string, string> = { a: 'array', o: 'output', e: 'error', d: 'dependency', W: 'wait', h: 'help', V: 'version' };

const LONG = /^--([a-z][a-z0-9-]*)(=.*)?$/;
const SHORT = /^-[A-Za-z]$/;

const refuse = (token: string, why: string) => new UsageError(`--sbatch ${printable(token)}: ${why}.`);

/** The reserved option that `name` is, or abbreviates as sbatch would read it; else undefined. */
function reservedAs(name: string): string | undefined {
  return Object.keys(RESERVED_LONG).find((reserved) => reserved.startsWith(name));
}

function checkOption(token: string): void {
  const long = LONG.exec(token);
  if (long) {
    const reserved = reservedAs(long[1]);
    if (reserved)
      throw refuse(
        token,
        `${reserved === long[1] ? `--${reserved} is` : `sbatch reads this as --${reserved}, which is`} not for --sbatch (${RESERVED_LONG[reserved]})`,
      );
    return;
  }
  if (SHORT.test(token)) {
    const reserved = RESERVED_SHORT[token[1]];
    if (reserved) throw refuse(token, `${token} is --${reserved}, which is not for --sbatch (${RESERVED_LONG[reserved]})`);
    return;
  }
  if (/^-[A-Za-z]./.test(token)) throw refuse(token, `write a short option apart from its value ("${token.slice(0, 2)} ${token.slice(2)}")`);
  throw refuse(token, 'not an sbatch option (options are --name=value, --name value or -X value)');
}

/**
 * The options in `text`, each as its argv tokens (["--time=01:00:00"], ["-p", "debug"]), in order;
 * a UsageError for the first token that is not safe and plainly an option.
 */
export function parseSbatchOptions(text: string): string[][] {
  const options: string[][] = [];
  let valueMayFollow = false;
  for (const token of text.split(' ').filter((t) => t !== '')) {
    if (CONTROL_CHARACTER.test(token))
      throw refuse(token, "holds a newline or other control character, which cannot be written safely into a Slurm script's #SBATCH lines");
    if (/['"\\]/.test(token))
      throw refuse(token, 'holds a quote or a backslash; --sbatch splits its options at spaces and unquotes nothing, so give values without them');
    if (!token.startsWith('-') && valueMayFollow) {
      options[options.length - 1].push(token);
      valueMayFollow = false;
      continue;
    }
    checkOption(token);
    options.push([token]);
    valueMayFollow = !token.includes('=');
  }
  return options;
}
