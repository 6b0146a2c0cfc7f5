/**
 * How a string is written into the generated Slurm scripts without changing meaning. A script has
 * two readers: bash runs its body, and sbatch reads its `#SBATCH` lines itself (bash sees those as
 * comments). Each gets its own quoting, one function each:
 *   shellQuote    POSIX single quotes for bash: inside '...' nothing is special except ' itself,
 *                 so this is complete for any string (no escaping table to get wrong);
 *   sbatchQuote   one argument of an #SBATCH line as sbatch's own parser reads it (Slurm's
 *                 src/sbatch/opt.c, _get_argument): whitespace splits, ' and " group, a backslash
 *                 escapes the next character, an unescaped # starts a comment, a leading ":" is
 *                 fatal; so: double quotes, with \ " ' # escaped;
 *   slurmPatternLiteral  a folder inside a --output file name, where Slurm expands %j, %a, ...
 * No quoting makes a newline safe in an #SBATCH line (sbatch ends the line there, and bash runs
 * the rest as a command), nor a backslash in a log file name (Slurm then skips every %
 * substitution): unsafePathReason names those, so that the caller refuses such a folder.
 */

/** Single-quotes `s` for bash (`it's` becomes `'it'\''s'`). */
export const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Characters sbatch reads literally outside quotes; a word of only these is written as it is. */
const SBATCH_PLAIN = /^[A-Za-z0-9_@%+=,./-][A-Za-z0-9_@%+=:,./-]*$/;

/** One #SBATCH argument: plain words as they are (readable scripts), anything else double-quoted. */
export const sbatchQuote = (s: string): string => (SBATCH_PLAIN.test(s) ? s : `"${s.replace(/[\\"'#]/g, '\\$&')}"`);

/** A literal folder or file name inside a Slurm file-name pattern: "%" is written "%%". */
export const slurmPatternLiteral = (s: string): string => s.replace(/%/g, '%%');

/** C0 and C1 control characters and DEL: a newline, a carriage return, a tab, an escape... */
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/** `s` quoted for an error message on one line: control and line-separator characters escaped. */
export function printable(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Why `path` cannot go into the scripts, or undefined when it can. */
export function unsafePathReason(path: string): string | undefined {
  if (CONTROL_CHARACTER.test(path))
    return "holds a newline or other control character, which cannot be written safely into a Slurm script's #SBATCH lines (sbatch reads them itself)";
  if (path.includes('\\')) return 'holds a backslash, which makes Slurm skip the %a in the log file names (every task would lose its log)';
  return undefined;
}
