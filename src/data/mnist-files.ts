/**
 * The four MNIST IDX files on disk: where to look, how to read (gzip or raw), and checking
 * the sha256 of the decompressed bytes before any of them is used.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { UserError } from '../core/errors.js';
import { readUserFile } from '../core/user-file.js';
import { IMAGE_PIXELS, allocateSplit, type Split } from './dataset.js';
import { parseIdx } from './idx.js';

/** sha256 of the decompressed files (../shared/data/mnist/README.md, the LeCun originals). */
export const MNIST_FILES = {
  trainImages: { name: 'train-images-idx3-ubyte', sha256: 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db' },
  trainLabels: { name: 'train-labels-idx1-ubyte', sha256: '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5' },
  testImages: { name: 't10k-images-idx3-ubyte', sha256: '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7' },
  testLabels: { name: 't10k-labels-idx1-ubyte', sha256: 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2' },
} as const;
export type MnistFileKey = keyof typeof MNIST_FILES;

/**
 * The largest MNIST file, train-images-idx3-ubyte (16-byte header + 60,000 x 784 pixels): no
 * file is read, and no gzip decompressed, beyond it, so /dev/zero or a gzip bomb (2 GB of zeros
 * is a 2 MB .gz) is refused at once instead of filling memory. Other data in MNIST's format
 * (data.verifyChecksums off) is held to the same size.
 */
export const MAX_IDX_BYTES = 16 + 60_000 * 784;
/** A .gz of that much data: deflate's stored blocks add 5 bytes per 64 KiB, plus headers. */
export const MAX_GZIP_BYTES = MAX_IDX_BYTES + Math.ceil(MAX_IDX_BYTES / 1000) + 1024;
export const MNIST_KEYS = Object.keys(MNIST_FILES) as MnistFileKey[];

/**
 * True when `path` exists and is not a folder. A FIFO or device in a file's place counts as
 * present, so that reading it is refused by name (readIdxFile) instead of reported as missing.
 */
function isPresent(path: string): boolean {
  try {
    return !statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The path of `file` in `dir`, gzip preferred, or undefined when neither form is there. */
export function findFile(dir: string, file: string): string | undefined {
  for (const candidate of [join(dir, `${file}.gz`), join(dir, file)]) if (isPresent(candidate)) return candidate;
  return undefined;
}

/** True when `dir` holds all four files (gzip or raw). */
export function hasAllFiles(dir: string): boolean {
  return MNIST_KEYS.every((k) => findFile(dir, MNIST_FILES[k].name) !== undefined);
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Decompresses when the bytes start with the gzip magic, else returns them as they are; zlib
 * stops at MAX_IDX_BYTES of output, so memory and time stay bounded whatever the input.
 */
export function maybeGunzip(bytes: Uint8Array, path: string): Uint8Array {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return gunzipSync(bytes, { maxOutputLength: MAX_IDX_BYTES });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new UserError(
          `${path} decompresses to more than ${MAX_IDX_BYTES.toLocaleString('en-US')} bytes, the size of MNIST's largest file; it is not an MNIST file.`,
        );
      }
      throw new UserError(`${path} is a corrupt gzip file.`);
    }
  }
  return bytes;
}

/** The bytes of an IDX file (raw or .gz) at `path`: a regular file of at most MAX_GZIP_BYTES. */
export function readIdxFile(path: string): Uint8Array {
  return readUserFile(
    path,
    MAX_GZIP_BYTES,
    (problem) => new UserError(`${path} ${problem}; MNIST's files are regular files of at most ${MAX_IDX_BYTES.toLocaleString('en-US')} bytes.`),
  );
}

/** Reads one file; with `verify`, a checksum mismatch is an error and the bytes are not used. */
export function readMnistFile(dir: string, key: MnistFileKey, verify: boolean): Uint8Array {
  const { name, sha256: expected } = MNIST_FILES[key];
  const path = findFile(dir, name);
  if (!path) throw new UserError(`${name} (or ${name}.gz) is missing from ${dir}.`);
  const bytes = maybeGunzip(readIdxFile(path), path);
  if (verify && sha256(bytes) !== expected) {
    throw new UserError(`${path} fails its sha256 check (corrupt or not the MNIST file); delete it and run again.`);
  }
  return bytes;
}

/** Builds a split from IDX image and label bytes, checking that the two agree. */
export function splitFromIdx(imageBytes: Uint8Array, labelBytes: Uint8Array, what: string): Split {
  const images = parseIdx(imageBytes, 3, `${what} images`);
  const labels = parseIdx(labelBytes, 1, `${what} labels`);
  const [count, rows, cols] = images.dims;
  if (rows * cols !== IMAGE_PIXELS) throw new UserError(`${what} images are ${rows}x${cols}, expected 28x28.`);
  if (labels.dims[0] !== count) {
    throw new UserError(`${what} images and labels disagree: ${count} images but ${labels.dims[0]} labels.`);
  }
  const bad = labels.data.findIndex((l) => l > 9);
  if (bad >= 0) throw new UserError(`${what} labels hold ${labels.data[bad]} at index ${bad}, outside 0..9.`);
  const split = allocateSplit(count);
  for (let i = 0; i < split.images.length; i++) split.images[i] = images.data[i] / 255;
  split.labels.set(labels.data);
  return split;
}

/** Loads train and test splits from `dir`. */
export function loadMnistDir(dir: string, verify = true): { train: Split; test: Split } {
  const read = (k: MnistFileKey) => readMnistFile(dir, k, verify);
  return {
    train: splitFromIdx(read('trainImages'), read('trainLabels'), 'training'),
    test: splitFromIdx(read('testImages'), read('testLabels'), 'test'),
  };
}
