/**
 * Parser for the IDX format of the MNIST files (LeCun et al.): a big-endian header of
 * magic (0x00 0x00 type ndims), one uint32 per dimension, then the unsigned-byte payload.
 * It checks magic, dimensions and byte counts, and nothing else.
 */
import { UserError } from '../core/errors.js';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const UBYTE = 0x08;

/** Parses IDX bytes that must hold `expectedDims` dimensions of unsigned bytes. */
export function parseIdx(bytes: Uint8Array, expectedDims: number, name: string): IdxArray {
  if (bytes.length < 4) throw new UserError(`${name} is truncated: ${bytes.length} bytes, too short for an IDX header.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const expectedMagic = (UBYTE << 8) | expectedDims;
  if (magic !== expectedMagic) {
    throw new UserError(
      `${name} has magic number 0x${magic.toString(16).padStart(8, '0')}, expected 0x${expectedMagic
        .toString(16)
        .padStart(8, '0')} (not an IDX file of ${expectedDims}-d unsigned bytes).`,
    );
  }
  const headerBytes = 4 + 4 * expectedDims;
  if (bytes.length < headerBytes) throw new UserError(`${name} is truncated inside its IDX header.`);
  const dims: number[] = [];
  for (let i = 0; i < expectedDims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const payload = dims.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerBytes;
  if (actual !== payload) {
    const what = actual < payload ? 'is truncated' : 'has trailing bytes';
    throw new UserError(`${name} ${what}: header dimensions ${dims.join('x')} need ${payload} bytes, found ${actual}.`);
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/** Encodes an IDX file (used by tests and fixtures; the inverse of parseIdx). */
export function encodeIdx(dims: number[], data: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  view.setUint32(0, (UBYTE << 8) | dims.length, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + data.length);
  out.set(header, 0);
  out.set(data, header.length);
  return out;
}
