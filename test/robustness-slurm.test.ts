/**
 * Issue 17, family 2: nothing in a path or an --sbatch option runs as a command. The generated
 * scripts are run with bash for hostile --out folders, with bn-repro, sbatch, srun, scontrol and
 * scancel replaced by stubs that record their argv (as JSON) and nothing else: the stubs must get
 * exactly the intended paths, each as one argv entry, stderr must stay empty (a command that was
 * not meant to run fails there), and no PWNED file may appear anywhere. The same check first
 * catches the unquoted line the scripts had before, so it can fail. Through the CLI: a hostile
 * folder submits and its scripts train, merge and report with the real bn-repro; folders no
 * quoting makes safe and bad --sbatch tokens are exit 2 with nothing written and sbatch never run;
 * a submission sbatch refuses leaves no folder behind.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { arrayScript, mergeScript, slurmLayout, type SlurmLayout } from '../src/slurm/scripts.js';
import { nextStepsLine } from '../src/commands/next-steps.js';
import { shellQuote } from '../src/slurm/quote.js';
import { runCli, tempDir } from './helpers.js';

/** Folder names that run a command if a script lets a shell, or sbatch, read them unquoted. */
const HOSTILE: Record<string, string> = {
  'command substitution': '$(touch PWNED)',
  backticks: '`touch PWNED`',
  'a semicolon': 'x;touch PWNED;rm -rf y',
  'single quotes': "it's '$(touch PWNED)'",
  'double quotes': 'say "hi" "$(touch PWNED)"',
  'spaces and a glob': '  two  spaces * ',
  'a leading -': '-rf --help',
  unicode: 'résumé ü 漢字 🙂',
  'a # and %j (sbatch comment, Slurm pattern)': 'run #1 100%j %a',
  'pipes and redirection': '| touch PWNED & touch PWNED > PWNED',
  variables: '$HOME ${IFS} $0',
};
const ALL_AT_ONCE = `-x $(touch PWNED) \`touch PWNED\` ;touch PWNED; 'q' "dq" #1 100%j ü 漢`;

const work = tempDir('bn-repro-slurm-hostile-');

/** Stubs in `dir`: each appends [its name, ...argv] to dir/calls.jsonl; sbatch answers job ids 101, 102... */
function stubs(dir: string): { bin: string; calls: () => string[][] } {
  const bin = join(dir, 'stub-bin');
  mkdirSync(bin, { recursive: true });
  const log = join(dir, 'calls.jsonl');
  const body = `#!${process.execPath}
const fs = require('node:fs');
const name = require('node:path').basename(process.argv[1]);
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify([name, ...process.argv.slice(2)]) + '\\n');
const mode = process.env.STUB_SBATCH ?? 'ok';
if (name === 'sbatch' && process.argv[2] === '--version') console.log('slurm 22.05.8');
else if (name === 'sbatch') {
  const n = fs.readFileSync(${JSON.stringify(log)}, 'utf8').split('\\n').filter((l) => l.startsWith('["sbatch","--parsable"')).length;
  if (mode === 'fail' || (mode === 'fail-merge' && n === 2)) { console.error('sbatch: error: Invalid directive found in batch script: y'); process.exit(1); }
  console.log(mode === 'garbage' ? 'Submitted batch job' : String(100 + n));
} else if (name === 'bn-repro' && process.env.STUB_WAIT_FOR_TERM) {
  process.on('SIGTERM', () => process.exit(130));
  setInterval(() => {}, 1000);
}
`;
  for (const name of ['sbatch', 'srun', 'scontrol', 'scancel', 'squeue', 'bn-repro']) {
    writeFileSync(join(bin, name), body);
    chmodSync(join(bin, name), 0o755);
  }
  const calls = () =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as string[])
      : [];
  return { bin, calls };
}

/** Every file or folder under `root` whose name starts with PWNED. */
const pwned = (root: string) => (readdirSync(root, { recursive: true }) as string[]).filter((p) => p.split('/').pop()!.startsWith('PWNED'));

/** Runs `script` with bash in `cwd` as Slurm would (task id, stubs first on PATH), SIGKILLed after 60 s. */
function runScript(script: string, cwd: string, stubBin: string, env: Record<string, string> = {}) {
  const r = spawnSync('bash', [script], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
    killSignal: 'SIGKILL',
    env: { ...process.env, PATH: `${stubBin}:${process.env.PATH}`, SLURM_ARRAY_JOB_ID: '101', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A layout under a hostile name in a fresh folder, its scripts written by scripts.ts, bn-repro being the stub. */
function hostileSetup(name: string) {
  const root = tempDir();
  const cwd = join(root, 'cwd');
  mkdirSync(cwd);
  const s = stubs(root);
  const l: SlurmLayout = slurmLayout(join(root, name));
  mkdirSync(l.logDir, { recursive: true });
  // bn-repro's shim lives under a hostile name too: the stub must get it as its first argument.
  const bin = join(root, `bin ${name}`, 'bn-repro');
  const o = { name: 'bn-repro-x', tasks: 2, node: join(s.bin, 'bn-repro'), bin, sbatch: [['-p', 'debug'], ['--comment=run#3']], warnSeconds: 120 };
  writeFileSync(l.arrayScript, arrayScript(l, o));
  writeFileSync(l.mergeScript, mergeScript(l, o));
  return { root, cwd, s, l, bin };
}

test('the check can fail: the old unquoted `echo "merged sweep: DIR"` line runs the payload', () => {
  const root = tempDir();
  const r = spawnSync('bash', ['-c', `echo "merged sweep: ${join(root, HOSTILE['command substitution'])}"`], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.deepEqual(pwned(root), ['PWNED']);
});

for (const [what, name] of [...Object.entries(HOSTILE), ['all of them at once', ALL_AT_ONCE]]) {
  test(`a folder with ${what}: the scripts pass its paths as single arguments, and nothing else runs`, () => {
    const { root, cwd, s, l, bin } = hostileSetup(name);
    const task1 = runScript(l.arrayScript, cwd, s.bin, { SLURM_ARRAY_TASK_ID: '1' });
    assert.equal(task1.code, 0, task1.stderr);
    mkdirSync(l.shardDir(2));
    writeFileSync(join(l.shardDir(2), 'run.json'), '{}'); // a requeued task finds its folder: --resume
    const task2 = runScript(l.arrayScript, cwd, s.bin, { SLURM_ARRAY_TASK_ID: '2' });
    assert.equal(task2.code, 0, task2.stderr);
    const merge = runScript(l.mergeScript, cwd, s.bin);
    assert.equal(merge.code, 0, merge.stderr);
    assert.deepEqual(s.calls(), [
      ['bn-repro', bin, 'sweep', l.configPath, '--shard', '1/2', '--out', l.shardDir(1)],
      ['bn-repro', bin, 'mnist', '--resume', l.shardDir(2)],
      ['bn-repro', bin, 'merge', l.shardDir(1), l.shardDir(2), '--out', l.dir],
      ['bn-repro', bin, 'report', l.dir, '--quiet'],
    ]);
    for (const r of [task1, task2, merge]) assert.equal(r.stderr, '');
    assert.match(task1.stdout, /^\S+ task 1 on \S+: .* --out .*shard-1\n$/);
    assert.equal(merge.stdout, `merged sweep: ${l.dir}\n`);
    assert.deepEqual(pwned(root), []);
    // What sbatch reads: the --output line is one argument, % doubled (Slurm expands %j), # escaped.
    const output = readFileSync(l.arrayScript, 'utf8')
      .split('\n')
      .find((line) => line.includes('--output='))!;
    const literal = l.logDir.split('%').join('%%');
    assert.equal(
      output,
      /^[\w@%+=:,./-]+$/.test(literal) ? `#SBATCH --output=${literal}/shard-%a.log` : `#SBATCH "--output=${literal.replace(/[\\"'#]/g, '\\$&')}/shard-%a.log"`,
    );
  });
}

test('USR1 before the time limit, in a hostile folder: bn-repro gets SIGTERM, the task requeues itself by its id, exit 130', async () => {
  const { cwd, s, l } = hostileSetup(ALL_AT_ONCE);
  const child = spawn('bash', [l.arrayScript], {
    cwd,
    stdio: 'ignore',
    env: { ...process.env, PATH: `${s.bin}:${process.env.PATH}`, SLURM_ARRAY_JOB_ID: '101', SLURM_ARRAY_TASK_ID: '1', STUB_WAIT_FOR_TERM: '1' },
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    while (s.calls().length === 0) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200)); // the stub's SIGTERM handler is set right after it logs
    child.kill('SIGUSR1');
    const code = await new Promise((r) => child.once('exit', r));
    assert.equal(code, 130);
    assert.deepEqual(s.calls().slice(1), [['scontrol', 'requeue', '101_1']]);
  } finally {
    clearTimeout(killer);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

/** A tiny sweep (baseline and BN, one seed, 100 steps on 300 embedded digits): the shards train in seconds. */
const tiny = join(work, 'tiny.json');
writeFileSync(
  tiny,
  JSON.stringify({
    name: 'tiny',
    seeds: [0],
    sweep: [
      { name: 'baseline', bn: false, lrMultiplier: 1 },
      { name: 'bn', bn: true, lrMultiplier: 1 },
    ],
    train: { steps: 100, learningRate: 0.5 },
    eval: { every: 50, probeSize: 100, units: [0, 1] },
    batchNorm: { populationBatches: 2 },
    data: { source: 'embedded', trainSubset: 300, testSubset: 100 },
  }),
);

const errorLines = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('error:'));

test('sweep --slurm 2 into a hostile folder: submitted as written, and its scripts train, merge and report with the real bn-repro', () => {
  const root = tempDir();
  const s = stubs(root);
  const out = join(root, ALL_AT_ONCE);
  const r = runCli(['sweep', tiny, '--slurm', '2', '--out', out, '--sbatch', '--comment=run#3 -p debug'], { env: { PATH: `${s.bin}:${process.env.PATH}` } });
  assert.equal(r.code, 0, r.stderr);
  const l = slurmLayout(out);
  assert.deepEqual(s.calls(), [
    ['sbatch', '--version'],
    ['sbatch', '--parsable', l.arrayScript],
    ['sbatch', '--parsable', '--dependency=afterok:101', '--kill-on-invalid-dep=yes', l.mergeScript],
  ]);
  for (const script of [l.arrayScript, l.mergeScript]) {
    const lines = readFileSync(script, 'utf8').split('\n');
    assert.ok(lines.includes('#SBATCH "--comment=run\\#3"') && lines.includes('#SBATCH -p debug'), script);
  }
  const cwd = join(root, 'cwd');
  mkdirSync(cwd);
  for (const task of ['1', '2']) {
    const t = runScript(l.arrayScript, cwd, s.bin, { SLURM_ARRAY_TASK_ID: task });
    assert.equal(t.code, 0, t.stderr);
  }
  const m = runScript(l.mergeScript, cwd, s.bin);
  assert.equal(m.code, 0, m.stderr);
  // merge prints the next steps (the folder quoted for the shell), then the script its own line.
  assert.equal(m.stdout, `${nextStepsLine(out)}\nmerged sweep: ${out}\n`);
  assert.ok(nextStepsLine(out).includes(`plot ${shellQuote(out)} && bn-repro report ${shellQuote(out)}`), nextStepsLine(out));
  const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  assert.equal(run.status, 'finished');
  assert.deepEqual(run.runs.map((x: { arm: string }) => x.arm).sort(), ['baseline', 'bn']);
  assert.ok(existsSync(join(out, 'report.md')));
  assert.equal(s.calls().length, 3, 'the scripts called no Slurm tool');
  assert.deepEqual(pwned(root), []);
});

/** Runs `sweep --slurm 2` with stub sbatch; returns the result, the stub's calls and whether --out exists after. */
function submit(out: string, extra: string[], opts: { cwd?: string; sbatch?: string } = {}) {
  const s = stubs(tempDir());
  const r = runCli(['sweep', tiny, '--slurm', '2', '--out', out, ...extra], {
    cwd: opts.cwd,
    env: { PATH: `${s.bin}:${process.env.PATH}`, STUB_SBATCH: opts.sbatch ?? 'ok' },
  });
  return { ...r, calls: s.calls(), errors: errorLines(r.stderr) };
}

test('--out with a newline or other control character, or a backslash: exit 2 naming --out, nothing written, sbatch never run', () => {
  for (const name of ['a\nb', 'a\n#SBATCH --wrap=touch PWNED', 'a\rb', 'a\tb', 'a\u001b[31mb', 'a\u007fb', 'a\u0085b', 'a\\b']) {
    const out = join(work, name);
    const r = submit(out, []);
    assert.equal(r.code, 2, `${JSON.stringify(name)}: ${r.stderr}`);
    assert.equal(r.errors.length, 1, r.stderr);
    assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
    assert.match(
      r.errors[0],
      name.includes('\\')
        ? /^error: --out ".*" holds a backslash, which makes Slurm skip the %a in the log file names/
        : /^error: --out ".*" holds a newline or other control character, which cannot be written safely into a Slurm script's #SBATCH lines \(sbatch reads them itself\); choose another folder for a --slurm sweep\.$/,
    );
    assert.equal(existsSync(out), false);
    assert.deepEqual(r.calls, []);
  }
  // A relative --out inside a working folder whose name has a newline: the folder the scripts would name.
  const cwd = join(work, 'cwd\nwith a newline');
  mkdirSync(cwd);
  const r = submit('rel', [], { cwd });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.errors[0], /^error: --out ".*cwd\\nwith a newline\/rel" holds a newline/);
  assert.deepEqual(readdirSync(cwd), []);
});

test('--sbatch tokens that are not plain options: exit 2 naming the token, nothing written, sbatch never run', () => {
  const cases: [string, RegExp][] = [
    ['-p debug\n#SBATCH --wrap=touch PWNED', /^error: --sbatch "debug\\n#SBATCH": holds a newline or other control character/],
    ['--time=1:00 ; touch PWNED', /^error: --sbatch ";": not an sbatch option/],
    ['$(touch PWNED)', /^error: --sbatch "\$\(touch": not an sbatch option/],
    ["--comment='a b'", /^error: --sbatch "--comment='a": holds a quote or a backslash/],
    ['--ou=/tmp/x', /^error: --sbatch "--ou=\/tmp\/x": sbatch reads this as --output, which is not for --sbatch/],
    ['-o /tmp/x', /^error: --sbatch "-o": -o is --output, which is not for --sbatch/],
    ['--wrap=id', /^error: --sbatch "--wrap=id": --wrap is not for --sbatch \(the generated scripts are the jobs\)\.$/],
    ['--array=1-100', /^error: --sbatch "--array=1-100": --array is not for --sbatch \(bn-repro sets it from --slurm N\)\.$/],
  ];
  for (const [opts, message] of cases) {
    const out = join(work, 'refused');
    const r = submit(out, ['--sbatch', opts]);
    assert.equal(r.code, 2, `${opts}: ${r.stderr}`);
    assert.equal(r.errors.length, 1, r.stderr);
    assert.match(r.errors[0], message);
    assert.equal(existsSync(out), false);
    assert.deepEqual(r.calls, []);
  }
});

test('a submission sbatch refuses or answers without a job id: exit 1, one sentence, no folder left; a refused merge job cancels the array', () => {
  for (const [mode, message] of [
    ['fail', /^error: sbatch --parsable .*array\.sbatch failed: sbatch: error: Invalid directive found in batch script: y$/],
    ['garbage', /^error: sbatch answered "Submitted batch job" instead of a job id\.$/],
  ] as const) {
    const out = join(tempDir(), 'sweep');
    const r = submit(out, [], { sbatch: mode });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.errors.length, 1, r.stderr);
    assert.match(r.errors[0], message);
    assert.equal(existsSync(out), false, `${mode}: the folder is gone`);
  }
  const empty = tempDir(); // an empty folder that was there before: it stays, empty
  assert.equal(submit(empty, [], { sbatch: 'fail' }).code, 1);
  assert.deepEqual(readdirSync(empty), []);
  const out = join(tempDir(), 'sweep');
  const r = submit(out, [], { sbatch: 'fail-merge' });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.errors.length, 1, r.stderr);
  assert.match(
    r.errors[0],
    /^error: sbatch --parsable --dependency=afterok:101 --kill-on-invalid-dep=yes .*merge\.sbatch failed: sbatch: error: Invalid directive found in batch script: y; the merge job was not submitted, so the array job 101 was cancelled \(its scripts stay in .*\/slurm\)\.$/,
  );
  assert.deepEqual(r.calls.at(-1), ['scancel', '101']);
});
