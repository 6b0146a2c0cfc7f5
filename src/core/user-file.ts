/**
 * Reading a file the user named (a config file, an IDX file) without trusting what it is: only a
 * regular file is read, opened without blocking (a FIFO would otherwise wait forever for a
 * writer), and never more than a stated number of bytes (/dev/zero or a 10 GB file would
 * otherwise be read until memory runs out). Every refusal is one sentence naming the file.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { systemReason } from './errors.js';

/** What a path that is not a regular file is, in words ("a FIFO (named pipe)"), or undefined. */
export function specialKind(stats: Stats): string | undefined {
  if (stats.isFile()) return undefined;
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * The bytes of the regular file at `path`, at most `maxBytes` of them. `fail` turns the end of a
 * sentence ("is a FIFO ...") into the error to throw, so callers choose its class (a config file
 * is a usage error, an IDX file a runtime one) and its subject ("Config file x.json").
 */
export function readUserFile(path: string, maxBytes: number, fail: (problem: string) => Error): Buffer {
  const refuse = (stats: Stats): void => {
    const kind = specialKind(stats);
    if (kind) throw fail(`is ${kind}, not a regular file`);
    if (stats.size > maxBytes) throw fail(`is ${stats.size.toLocaleString('en-US')} bytes, more than the ${maxBytes.toLocaleString('en-US')} bytes allowed`);
  };
  let fd: number;
  try {
    // stat first: a socket cannot be opened at all (ENXIO), and a FIFO is named before it is opened.
    refuse(statSync(path));
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    const why = systemReason(err);
    if (why) throw fail(`cannot be read: ${why}`);
    throw err;
  }
  try {
    // Checked again on the open file: the path may have been replaced since the stat.
    refuse(fstatSync(fd));
    // Read to the end rather than trusting st_size: /proc files report 0, a growing file more.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(1 << 20, maxBytes + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > maxBytes) throw fail(`is more than the ${maxBytes.toLocaleString('en-US')} bytes allowed`);
    }
    return Buffer.concat(chunks, total);
  } catch (err) {
    // Any system error while reading is the file's doing, not a bug: /proc/kmsg (EAGAIN),
    // /proc/self/pagemap (EINVAL), /proc/self/mem (EIO) are regular files that refuse a read.
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) throw fail(`cannot be read: ${systemReason(err) ?? `the system refused to read it (${code})`}`);
    throw err;
  } finally {
    closeSync(fd);
  }
}
