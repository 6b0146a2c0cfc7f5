/**
 * `sweep --slurm --wait` against stand-in sbatch and squeue scripts (no cluster needed): squeue
 * failing for a while (a controller restarting) is sat out, not read as "every job has left";
 * squeue failing for good ends the wait with one sentence; "Invalid job id" means the jobs left.
 */
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { UserError } from '../src/core/errors.js';
import { silentLogger } from '../src/core/logger.js';
import { submitSweep } from '../src/slurm/submit.js';
import { tempDir, testConfig } from './helpers.js';

/** A bin folder with sbatch (ids 101, 102) and a squeue that fails `transient` times, then says the jobs are gone. */
function fakeSlurm(transient: number): { bin: string; calls: () => number } {
  const bin = tempDir('fake-slurm-');
  const count = join(bin, 'squeue-calls');
  writeFileSync(count, '0');
  writeFileSync(
    join(bin, 'sbatch'),
    `#!/bin/sh\ncase "$1" in --version) echo "slurm 23.11.4";; *) n=$(cat ${bin}/ids 2>/dev/null || echo 100); n=$((n+1)); echo $n > ${bin}/ids; echo "$n";; esac\n`,
  );
  writeFileSync(
    join(bin, 'squeue'),
    `#!/bin/sh\nn=$(($(cat ${count}) + 1)); echo $n > ${count}\nif [ $n -le ${transient} ]; then echo "squeue: error: slurm_load_jobs error: Unable to contact slurm controller (connect failure)" >&2; exit 1; fi\necho "slurm_load_jobs error: Invalid job id specified" >&2; exit 1\n`,
  );
  for (const f of ['sbatch', 'squeue']) chmodSync(join(bin, f), 0o755);
  return { bin, calls: () => Number(readFileSync(count, 'utf8')) };
}

async function waitWith(transient: number): Promise<{ error: Error; calls: number }> {
  const slurm = fakeSlurm(transient);
  const path = process.env.PATH;
  process.env.PATH = `${slurm.bin}:${path}`;
  try {
    const config = testConfig({ name: 'wait', sweep: [{ name: 'bn', bn: true, lrMultiplier: 1 }] });
    const out = join(tempDir(), 'sweep');
    const error = await submitSweep(config, out, { tasks: 2, wait: true, sbatch: '', pollSeconds: 0.01 }, silentLogger).then(
      () => new Error('the wait returned without an error'),
      (e: Error) => e,
    );
    return { error, calls: slurm.calls() };
  } finally {
    process.env.PATH = path;
  }
}

test('squeue failing 5 times, then "Invalid job id": the wait sits the failures out, then checks the shards', async () => {
  const { error, calls } = await waitWith(5);
  assert.equal(calls, 6);
  assert.ok(error instanceof UserError);
  // No shard ever ran here: the folders say so (not squeue's exit code).
  assert.match(error.message, /^Slurm shards 1, 2 of 2 failed \(see .*shard-1.*\); the merge job did not run\.$/);
});

test('squeue failing for good: one sentence naming the jobs, after 31 tries', async () => {
  const { error, calls } = await waitWith(1000);
  assert.equal(calls, 31);
  assert.ok(error instanceof UserError);
  assert.match(
    error.message,
    /^squeue has failed 31 times in a row \(squeue: error: slurm_load_jobs error: Unable to contact slurm controller \(connect failure\)\); the jobs 101 and 102 may still be running/,
  );
});
