/**
 * The quoting of src/slurm/quote.ts and the --sbatch reader of src/slurm/sbatch-options.ts, each
 * against its reader: shellQuote against bash itself (random strings, read back through printf),
 * sbatchQuote against a port of the way sbatch reads an #SBATCH line (Slurm's src/sbatch/opt.c,
 * _get_argument; test/slurm.test.ts checks the real sbatch on a one-node cluster). --sbatch: the
 * options users write are read as written, anything else is one sentence naming the token.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import fc from 'fast-check';
import { UsageError } from '../src/core/errors.js';
import { CONTROL_CHARACTER, printable, sbatchQuote, shellQuote, slurmPatternLiteral, unsafePathReason } from '../src/slurm/quote.js';
import { parseSbatchOptions } from '../src/slurm/sbatch-options.js';

const HOSTILE = [
  '$(touch PWNED)',
  '`touch PWNED`',
  'a;touch PWNED;rm -rf b',
  "it's 'q'",
  'say "hi" \\"',
  'two  spaces ',
  '-rf --help',
  'résumé ü 漢字 🙂',
  'run #1 100%j',
  ':x',
  '$HOME ${IFS}',
  '* ? [a] | & > <',
  '\\',
];

/** Random strings heavy in what shells and sbatch treat specially; no NUL or lone surrogate (no path holds one). */
const SPECIAL = [...'\'"\\$`!#%;&|<>()[]{}*?~= :\t\n\r'];
const hostileText = (minLength: number) =>
  fc
    .string({
      unit: fc.oneof(fc.constantFrom(...SPECIAL), fc.constantFrom('a', '-', 'é', '漢', '🙂'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })),
      minLength,
      maxLength: 40,
    })
    .map((s) => s.replace(/\0|\p{Cs}/gu, ''))
    .filter((s) => s.length >= minLength);

/** C's isspace in the C locale: what sbatch splits at. */
const cSpace = (c: string) => ' \t\n\v\f\r'.includes(c);

/** The arguments sbatch reads after "#SBATCH", ported from Slurm 22.05's _get_argument and its caller. */
function sbatchArguments(line: string): string[] {
  const args: string[] = [];
  let i = 0;
  for (;;) {
    while (i < line.length && cSpace(line[i])) i++;
    if (line[i] === ':') throw new Error('sbatch: fatal: Unexpected `:`');
    let arg = '';
    let quote = '';
    let escaped = false;
    for (; i < line.length && (quote !== '' || !cSpace(line[i])); i++) {
      const c = line[i];
      if (escaped) escaped = false;
      else if (c === '\\') {
        escaped = true;
        continue;
      } // prettier-ignore
      else if (quote !== '') {
        if (c === quote) {
          quote = '';
          continue;
        }
      } // prettier-ignore
      else if (c === '"' || c === "'") {
        quote = c;
        continue;
      } // prettier-ignore
      else if (c === '#') break; // an unescaped # starts a comment
      arg += c;
    }
    if (quote !== '') throw new Error('sbatch: fatal: Unmatched quote');
    if (arg === '') return args; // sbatch's NULL: nothing more on this line
    args.push(arg);
  }
}

test('the sbatch model reads what Slurm reads: words split at spaces, quotes and \\ removed, # a comment', () => {
  assert.deepEqual(sbatchArguments('--output=/a b/c #x'), ['--output=/a', 'b/c']);
  assert.deepEqual(sbatchArguments(`"--comment=a b\\#c" -p 'x y'`), ['--comment=a b#c', '-p', 'x y']);
  assert.throws(() => sbatchArguments('-p :x'), /Unexpected `:`/);
});

test('shellQuote: bash reads every string back as one argument, unchanged (hostile ones and 300 random ones)', () => {
  const strings = [...HOSTILE, ...fc.sample(hostileText(0), { numRuns: 300, seed: 17 })];
  const script = `printf '%s\\0' ${strings.map(shellQuote).join(' ')}`;
  const out = execFileSync('bash', ['-c', script], { encoding: 'utf8' });
  assert.deepEqual(out.split('\0').slice(0, -1), strings);
});

test('sbatchQuote: sbatch reads every string without control characters back as one argument, unchanged', () => {
  for (const s of HOSTILE) assert.deepEqual(sbatchArguments(sbatchQuote(s)), [s], s);
  assert.equal(sbatchQuote('--time=01:00:00'), '--time=01:00:00', 'plain words stay readable');
  assert.equal(sbatchQuote('--comment=run#3'), '"--comment=run\\#3"');
  const text = hostileText(1)
    .map((s) => s.replace(new RegExp(CONTROL_CHARACTER.source, 'g'), ''))
    .filter((s) => s !== '');
  fc.assert(
    fc.property(text, (s) => assert.deepEqual(sbatchArguments(sbatchQuote(s)), [s])),
    { numRuns: 500, seed: 17 },
  );
});

test('slurmPatternLiteral doubles % (Slurm expands %j, %a... in --output); printable keeps messages on one line', () => {
  assert.equal(slurmPatternLiteral('/runs/100%j %a'), '/runs/100%%j %%a');
  assert.equal(printable('a\nb\u0085c\u2028'), '"a\\nb\\u0085c\\u2028"');
});

test('unsafePathReason: control characters and backslashes, nothing else', () => {
  for (const p of ['/a\nb', '/a\rb', '/a\tb', '/a\u001b[31m', '/a\u007f', '/a\u0085'])
    assert.match(unsafePathReason(p) ?? '', /control character/, JSON.stringify(p));
  assert.match(unsafePathReason('/a\\b') ?? '', /backslash/);
  for (const p of HOSTILE.filter((h) => !h.includes('\\'))) assert.equal(unsafePathReason(`/x/${p}`), undefined, p);
});

test('--sbatch: options as users write them, each as its tokens', () => {
  assert.deepEqual(parseSbatchOptions(''), []);
  assert.deepEqual(
    parseSbatchOptions(' --partition=cpu  --time=02:00:00 -p debug --account lab --comment=run#3 --constraint=a&b|c --mail-user=x@y.z --exclusive -J name '),
    [
      ['--partition=cpu'],
      ['--time=02:00:00'],
      ['-p', 'debug'],
      ['--account', 'lab'],
      ['--comment=run#3'],
      ['--constraint=a&b|c'],
      ['--mail-user=x@y.z'],
      ['--exclusive'],
      ['-J', 'name'],
    ],
  );
});

/** The usage sentence parseSbatchOptions gives for `text`. */
function refusal(text: string): string {
  try {
    parseSbatchOptions(text);
  } catch (err) {
    assert.ok(err instanceof UsageError, String(err));
    assert.ok(!err.message.includes('\n'), err.message);
    return err.message;
  }
  throw new Error(`--sbatch ${JSON.stringify(text)} was accepted`);
}

test('--sbatch: anything but plain options is one sentence naming the token', () => {
  assert.equal(
    refusal('-p debug\n#SBATCH --wrap=id'),
    `--sbatch "debug\\n#SBATCH": holds a newline or other control character, which cannot be written safely into a Slurm script's #SBATCH lines.`,
  );
  assert.equal(refusal('--time=1:00 ; touch PWNED'), '--sbatch ";": not an sbatch option (options are --name=value, --name value or -X value).');
  assert.equal(
    refusal("--comment='a b'"),
    `--sbatch "--comment='a": holds a quote or a backslash; --sbatch splits its options at spaces and unquotes nothing, so give values without them.`,
  );
  assert.equal(refusal('--output=/tmp/x'), '--sbatch "--output=/tmp/x": --output is not for --sbatch (bn-repro sends each task\'s output to DIR/slurm/logs/).');
  assert.equal(
    refusal('--ou=/tmp/x'),
    '--sbatch "--ou=/tmp/x": sbatch reads this as --output, which is not for --sbatch (bn-repro sends each task\'s output to DIR/slurm/logs/).',
  );
  assert.equal(refusal('-o /tmp/x'), '--sbatch "-o": -o is --output, which is not for --sbatch (bn-repro sends each task\'s output to DIR/slurm/logs/).');
  assert.equal(refusal('-pdebug'), '--sbatch "-pdebug": write a short option apart from its value ("-p debug").');
  const cases: [string, string][] = [
    ['$(touch PWNED)', '$(touch'],
    ['`touch PWNED`', '`touch'],
    ['debug', 'debug'],
    ['--time=1:00 2:00', '2:00'],
    ['--Partition=x', '--Partition=x'],
    ['--', '--'],
    ['-', '-'],
    ['---x', '---x'],
    ['--comment=a\tb', '--comment=a\tb'],
    ['--comment=a\\b', '--comment=a\\b'],
    ['--comment="x"', '--comment="x"'],
    ['--array=1-9', '--array=1-9'],
    ['--wrap=id', '--wrap=id'],
    ['--dependency=afterok:1', '--dependency=afterok:1'],
    ['-d afterok:1', '-d'],
    ['--signal=B:USR2@60', '--signal=B:USR2@60'],
    ['--no-requeue', '--no-requeue'],
    ['--error=/tmp/e', '--error=/tmp/e'],
    ['-e /tmp/e', '-e'],
    ['--open-mode=truncate', '--open-mode=truncate'],
    ['--wait', '--wait'],
    ['-W', '-W'],
    ['--parsable', '--parsable'],
    ['--test-only', '--test-only'],
    ['--help', '--help'],
    ['--version', '--version'],
    ['--arr=1-3', '--arr=1-3'],
  ];
  for (const [text, token] of cases) assert.ok(refusal(text).startsWith(`--sbatch ${printable(token)}: `), `${text}: ${refusal(text)}`);
});
