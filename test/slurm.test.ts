/**
 * `bn-repro sweep --slurm` against Slurm itself (a one-node cluster: scripts/slurm-one-node.sh,
 * started by .ci/run): the merged rows equal those of the same sweep trained unsharded; failed
 * tasks are named and the merge job does not run; a task requeued mid-run (scontrol requeue)
 * continues from its checkpoint and still gives identical rows; a folder whose name is a shell
 * payload with sbatch's comment sign and a Slurm pattern (%j) submits, trains and merges there, its
 * logs where they belong, and runs nothing. Without sbatch these skip with
 * that reason, unless BN_REPRO_REQUIRE_SLURM=1 (CI), where they fail instead. The scripts
 * themselves and the no-sbatch refusal are tested everywhere.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseSbatchOptions } from '../src/slurm/sbatch-options.js';
import { arrayScript, mergeScript, slurmLayout } from '../src/slurm/scripts.js';
import { ROOT, runCli, settle, start, tempDir, timelessRows, tinySweepConfig, waitForCheckpoint } from './helpers.js';

const haveSbatch = spawnSync('sbatch', ['--version']).status === 0;
const skip =
  haveSbatch || process.env.BN_REPRO_REQUIRE_SLURM === '1' ? false : 'no usable sbatch here (no Slurm client, or no cluster: CI starts a one-node one)';

const work = tempDir('bn-repro-slurm-');
const sweepConfig = (name: string, extra: Record<string, unknown>) => tinySweepConfig(work, name, extra);
const tiny = sweepConfig('tiny', {});

function assertSameRows(dir: string, reference: string): void {
  for (const file of ['accuracy.csv', 'activations.csv']) {
    const want = timelessRows(reference, file);
    assert.ok(want.length > 10);
    assert.deepEqual(timelessRows(dir, file), want, `${file} differs from the unsharded sweep`);
  }
}

test('the scripts: array with requeue and a time-limit warning, merge into DIR, --sbatch options on both; valid bash', () => {
  assert.deepEqual(parseSbatchOptions('  -p debug --time=01:00:00 --account lab '), [['-p', 'debug'], ['--time=01:00:00'], ['--account', 'lab']]);
  const l = slurmLayout('/runs/lr sweep');
  const o = { name: 'bn-repro-x', tasks: 3, node: '/usr/bin/node', bin: '/opt/bn repro/bin/bn-repro', sbatch: [['-p', 'debug']], warnSeconds: 120 };
  const array = arrayScript(l, o);
  for (const line of [
    '#SBATCH --array=1-3',
    '#SBATCH --requeue',
    '#SBATCH --signal=B:USR1@120',
    '#SBATCH -p debug',
    '#SBATCH "--output=/runs/lr sweep/slurm/logs/shard-%a.log"',
  ])
    assert.ok(array.includes(line), line);
  assert.match(array, /'\/usr\/bin\/node' '\/opt\/bn repro\/bin\/bn-repro' sweep '\/runs\/lr sweep\/slurm\/sweep\.json' --shard "\$i\/3" --out "\$out"/);
  assert.match(array, /mnist --resume "\$out"/);
  const merge = mergeScript(l, o);
  assert.match(
    merge,
    /merge '\/runs\/lr sweep\/slurm\/shard-1' '\/runs\/lr sweep\/slurm\/shard-2' '\/runs\/lr sweep\/slurm\/shard-3' --out '\/runs\/lr sweep'/,
  );
  assert.ok(merge.includes('#SBATCH -p debug'));
  for (const script of [array, merge]) {
    const path = join(work, 'check.sh');
    writeFileSync(path, script);
    execFileSync('bash', ['-n', path]); // throws on a syntax error
  }
});

test('no sbatch: one sentence, exit 1, nothing written', () => {
  const out = join(work, 'no-sbatch');
  const r = runCli(['sweep', tiny, '--slurm', '3', '--out', out], { env: { PATH: '/nonexistent' } });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^error: no sbatch on this machine \(Slurm's client tools are not installed or not on PATH\)/m);
  assert.equal(existsSync(out), false);
});

test('--slurm 3 --wait: the merged sweep in DIR equals the unsharded sweep (timing aside), report included', { skip }, () => {
  const reference = join(work, 'reference');
  assert.equal(runCli(['sweep', tiny, '--out', reference, '--quiet']).code, 0);
  const out = join(work, 'slurm3');
  const r = runCli(['sweep', tiny, '--slurm', '3', '--wait', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /submitted array job \d+ \(3 tasks\) and merge job \d+/);
  assertSameRows(out, reference);
  const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  assert.equal(run.status, 'finished');
  assert.equal(run.runs.length, 6);
  assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /## Learning-rate sweep/);
  for (const i of [1, 2, 3]) assert.ok(existsSync(join(out, 'slurm', 'logs', `shard-${i}.log`)));
});

test('tasks that fail: non-zero exit naming the shards and their logs; the merge job does not run', { skip }, () => {
  const out = join(work, 'failing');
  const r = runCli(['sweep', tiny, '--slurm', '2', '--wait', '--out', out, '--data', 'full', '--data-dir', join(work, 'no-such-data')]);
  assert.equal(r.code, 1, r.stderr);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
  assert.equal(errors.length, 1, r.stderr);
  assert.match(errors[0], /^error: Slurm shards 1, 2 of 2 failed \(see .*shard-1\.log, .*shard-2\.log\); the merge job did not run\.$/);
  assert.equal(existsSync(join(out, 'run.json')), false, 'no merged folder');
  assert.match(readFileSync(join(out, 'slurm', 'logs', 'shard-1.log'), 'utf8'), /no-such-data does not exist/);
});

test('a task requeued mid-run (scontrol requeue) resumes from its checkpoint: identical rows', { skip }, async () => {
  const long = sweepConfig('long', {
    seeds: [0],
    sweep: [{ name: 'bn', bn: true, lrMultiplier: 1 }],
    train: { steps: 3000, learningRate: 0.5, checkpointEvery: 300 },
  });
  const reference = join(work, 'long-reference');
  assert.equal(runCli(['sweep', long, '--out', reference, '--quiet']).code, 0);
  const out = join(work, 'requeued');
  const child = start(['sweep', long, '--slurm', '1', '--wait', '--out', out], 'pipe');
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  let code: unknown;
  await settle(child, async () => {
    await waitForCheckpoint(join(out, 'slurm', 'shard-1', 'checkpoints', 'bn-seed0.json'), 600, 120_000);
    const arrayId = /submitted array job (\d+)/.exec(stderr)?.[1];
    assert.ok(arrayId, stderr);
    execFileSync('scontrol', ['requeue', `${arrayId}_1`]);
    // Slurm starts it again by itself once the old credential expires (cred_expire, 10 s on the
    // one-node cluster). Forcing an earlier start (StartTime=now) makes slurmd refuse the task.
    // Bounded: a job Slurm holds instead fails the test with its state (settle SIGKILLs the child).
    let timer: NodeJS.Timeout | undefined;
    code = await Promise.race([
      new Promise((r) => child.once('exit', r)),
      new Promise((_, reject) => {
        timer = setTimeout(() => {
          const job = spawnSync('scontrol', ['show', 'job', `${arrayId}_1`], { encoding: 'utf8' });
          reject(new Error(`the requeued task did not finish within 180 s: ${job.stdout}${job.stderr}`));
        }, 180_000);
      }),
    ]).finally(() => clearTimeout(timer));
  });
  assert.equal(code, 0, stderr);
  const log = readFileSync(join(out, 'slurm', 'logs', 'shard-1.log'), 'utf8');
  assert.match(log, /SIGTERM: finishing the current step and saving checkpoints/);
  assert.match(log, /resuming bn seed 0 from step \d+/);
  assertSameRows(out, reference);
});

test('a hostile folder (shell payloads, quotes, #, %j, unicode) with --sbatch "--comment=run#3": sbatch reads it as written, nothing runs', {
  skip,
}, async () => {
  const small = sweepConfig('small', {
    seeds: [0],
    sweep: [
      { name: 'baseline', bn: false, lrMultiplier: 1 },
      { name: 'bn', bn: true, lrMultiplier: 1 },
    ],
    train: { steps: 100, learningRate: 0.5 },
  });
  const out = join(work, `-x $(touch PWNED) \`touch PWNED\` ;touch PWNED; 'q' "dq" #1 100%j %a ü 漢`);
  const r = runCli(['sweep', small, '--slurm', '2', '--out', out, '--sbatch', '--comment=run#3 --time=00:30:00']);
  assert.equal(r.code, 0, r.stderr);
  const [, arrayId, mergeId] = /submitted array job (\d+) \(2 tasks\) and merge job (\d+)/.exec(r.stderr) ?? [];
  assert.ok(mergeId, r.stderr);
  // Unescaped, sbatch would read "run" (the rest a comment) or refuse the line.
  assert.match(execFileSync('scontrol', ['show', 'job', mergeId], { encoding: 'utf8' }), /Comment=run#3\s/);
  for (let t = 0; t < 240 && execFileSync('squeue', ['-h', '-j', `${arrayId},${mergeId}`], { encoding: 'utf8' }).trim() !== ''; t++)
    await new Promise((res) => setTimeout(res, 500));
  const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  assert.equal(run.status, 'finished');
  assert.equal(run.runs.length, 2);
  assert.deepEqual(readdirSync(join(out, 'slurm', 'logs')).sort(), ['merge.log', 'shard-1.log', 'shard-2.log']);
  assert.match(readFileSync(join(out, 'slurm', 'logs', 'merge.log'), 'utf8'), /merged sweep: .*100%j %a ü 漢\n$/);
  const pwned = [...(readdirSync(work, { recursive: true }) as string[]), ...readdirSync(ROOT)].filter((p) => p.split('/').pop()!.startsWith('PWNED'));
  assert.deepEqual(pwned, []);
});
