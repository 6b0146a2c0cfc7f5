/**
 * A forced quit (a second SIGINT) while worker threads train (issue 17, family 7): every busy
 * worker parks at a step boundary before the process exits (src/run/worker-parking.ts), so exit
 * is 130 on every backend. Without the parking, a worker inside a native ONNX Runtime call aborted
 * the process (exit 134, "terminate called after throwing an instance of 'Napi::Error'").
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, tempDir } from './helpers.js';
import { assertWholeCsvs, launch, leftovers, statusOf } from './signal-helpers.js';

const work = tempDir('bn-repro-signals-workers-');
const long = join(work, 'long.json');
// Long enough that both workers are mid-run when the signals arrive; checkpoints every 200 steps.
writeFileSync(
  long,
  JSON.stringify({
    train: { steps: 50_000, checkpointEvery: 200 },
    eval: { every: 1000, probeSize: 100 },
    batchNorm: { populationBatches: 3 },
    data: { source: 'embedded', trainSubset: 600, testSubset: 200 },
  }),
);

for (const backend of ['ort-cpu', 'wasm']) {
  test(`two SIGINTs with --jobs 2 on ${backend}: exit 130, interrupted, no lock, resumable`, async () => {
    const out = join(tempDir(), 'run');
    const p = launch(['mnist', '--config', long, '--out', out, '--jobs', '2', '--backend', backend]);
    await p.line(/writing results to/);
    await new Promise((r) => setTimeout(r, 3000)); // both workers are now inside their runs
    p.child.kill('SIGINT');
    await p.line(/finishing the current step/);
    p.child.kill('SIGINT');
    const r = await p.exited;
    assert.equal(r.signal, null, `died by ${r.signal}`);
    assert.equal(r.code, 130, r.stderr);
    assert.doesNotMatch(r.stderr, /Napi::Error|terminate called|^\s+at /m);
    assert.ok(r.stderr.includes(`continue with: bn-repro mnist --resume ${out}\n`), r.stderr);
    assert.equal(statusOf(out), 'interrupted');
    assert.deepEqual(leftovers(out), []);
    assertWholeCsvs(out);
    // The folder resumes (a short resume: stop it again with a clean SIGTERM once it trains).
    const resumed = launch(['mnist', '--resume', out, '--jobs', '2']);
    await resumed.line(/resuming/);
    resumed.child.kill('SIGTERM');
    const again = await resumed.exited;
    assert.equal(again.code, 130, again.stderr);
    assert.equal(statusOf(out), 'interrupted');
    assert.deepEqual(leftovers(out), []);
  });
}

test('a run that is not interrupted is untouched by the parking: exit 0 with --jobs 2 on ort-cpu', () => {
  const out = join(tempDir(), 'run');
  const r = runCli(['mnist', '--config', long, '--steps', '300', '--out', out, '--jobs', '2', '--backend', 'ort-cpu', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(statusOf(out), 'finished');
});
