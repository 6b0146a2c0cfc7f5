/**
 * Downloads missing MNIST files from a list of mirrors: retries with exponential backoff, then
 * the next mirror. Bytes land in a temp file that is checked (gzip + sha256 of the decompressed
 * content) and only then renamed into place, so a partial or corrupt download is never used.
 */
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { MAX_GZIP_BYTES, MNIST_FILES, MNIST_KEYS, findFile, maybeGunzip, sha256, type MnistFileKey } from './mnist-files.js';

/** Give up on one request after this long without finishing (the largest file is ~10 MB). */
const REQUEST_TIMEOUT_MS = 120_000;

export interface DownloadOptions {
  mirrors: string[];
  retries: number;
  logger: Logger;
  /** First retry waits this long, doubling each time. */
  backoffMs?: number;
  onProgress?: (file: string, receivedBytes: number, totalBytes: number) => void;
}

class ChecksumError extends Error {}

async function fetchBytes(url: string, file: string, opts: DownloadOptions): Promise<Uint8Array> {
  const res = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
  const total = Number(res.headers.get('content-length') ?? 0);
  const chunks: Uint8Array[] = [];
  let received = 0;
  // A mirror that sends more than any MNIST file can be is not serving MNIST: stop reading.
  if (total > MAX_GZIP_BYTES) throw new ChecksumError(`it announces ${total} bytes, more than an MNIST file can be`);
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    chunks.push(chunk);
    received += chunk.length;
    if (received > MAX_GZIP_BYTES) throw new ChecksumError(`it sent more than the ${MAX_GZIP_BYTES} bytes an MNIST file can be`);
    opts.onProgress?.(file, received, total);
  }
  if (total > 0 && received !== total) throw new Error(`connection closed after ${received} of ${total} bytes`);
  return Buffer.concat(chunks);
}

async function downloadOne(dir: string, key: MnistFileKey, opts: DownloadOptions): Promise<void> {
  const { name, sha256: expected } = MNIST_FILES[key];
  const dest = join(dir, `${name}.gz`);
  const temp = `${dest}.part-${process.pid}`;
  const failures: string[] = [];
  const backoff = opts.backoffMs ?? 1000;
  for (const mirror of opts.mirrors) {
    const url = `${mirror.replace(/\/?$/, '/')}${name}.gz`;
    for (let attempt = 0; attempt <= opts.retries; attempt++) {
      try {
        const bytes = await fetchBytes(url, name, opts);
        writeFileSync(temp, bytes);
        let content: Uint8Array;
        try {
          content = maybeGunzip(bytes, url);
        } catch {
          throw new ChecksumError('not a valid gzip file');
        }
        if (sha256(content) !== expected) throw new ChecksumError('sha256 mismatch');
        renameSync(temp, dest);
        return;
      } catch (err) {
        rmSync(temp, { force: true });
        const reason = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
        if (err instanceof ChecksumError) {
          opts.logger.warn(`${name} from ${mirror} failed its checksum (${reason}); discarded, trying the next mirror.`);
          failures.push(`${mirror}: ${reason}`);
          break; // the same mirror would serve the same bytes again
        }
        // A host name that does not resolve will not resolve on a retry either (offline machines).
        const permanent = (err as { cause?: { code?: string } }).cause?.code === 'ENOTFOUND';
        if (attempt === opts.retries || permanent) {
          failures.push(`${mirror}: ${reason}`);
          break;
        }
        await new Promise((r) => setTimeout(r, backoff * 2 ** attempt));
      }
    }
  }
  throw new UserError(`Could not download ${name} from any mirror (${failures.join('; ') || 'no mirrors configured'}).`);
}

/** Downloads every MNIST file missing from `dir` into it; a failed first download leaves no empty folder. */
export async function downloadMnist(dir: string, opts: DownloadOptions): Promise<void> {
  const created = mkdirSync(dir, { recursive: true });
  try {
    for (const key of MNIST_KEYS) {
      if (findFile(dir, MNIST_FILES[key].name)) continue;
      opts.logger.info(`downloading ${MNIST_FILES[key].name}.gz into ${dir}`);
      await downloadOne(dir, key, opts);
    }
  } catch (err) {
    if (created !== undefined && readdirSync(dir).length === 0) rmSync(created, { recursive: true, force: true });
    throw err;
  }
}
