/**
 * TFRecord framing, as TensorFlow's record writer lays it out and TensorBoard reads it: each
 * record is its length (uint64, little-endian), the masked CRC32C of those 8 bytes, the data, and
 * the masked CRC32C of the data. The CRC32C itself comes from the `crc-32` package (SheetJS).
 */
import crc32cLib from 'crc-32/crc32c.js';

/** The constant TensorFlow adds to the rotated CRC (tensorflow/core/lib/hash/crc32c.h, Mask). */
export const CRC_MASK_DELTA = 0xa282ead8;
const HEADER_BYTES = 12;
const FOOTER_BYTES = 4;

export function crc32c(bytes: Uint8Array): number {
  return crc32cLib.buf(bytes) >>> 0;
}

/** TensorFlow masks each stored CRC (rotate right by 15, add a constant), so CRCs of CRCs stay apart. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32c(bytes);
  return (((crc >>> 15) | (crc << 17)) + CRC_MASK_DELTA) >>> 0;
}

/** One record, framed. */
export function frameRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(HEADER_BYTES + data.length + FOOTER_BYTES);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, HEADER_BYTES);
  out.writeUInt32LE(maskedCrc32c(data), HEADER_BYTES + data.length);
  return out;
}

export interface FramedRecord {
  data: Buffer;
  /** Byte offset just past this record: truncating the file here keeps it and all before it. */
  end: number;
}

/**
 * The whole records at the start of `file`, up to the first one that is cut short (a writer
 * killed mid-record: 'cut') or whose CRCs do not match ('damaged'); `stop` says which ended it.
 */
export function readRecords(file: Buffer): { records: FramedRecord[]; stop: 'end' | 'cut' | 'damaged' } {
  const records: FramedRecord[] = [];
  let at = 0;
  while (at < file.length) {
    if (file.length - at < HEADER_BYTES) return { records, stop: 'cut' };
    if (file.readUInt32LE(at + 8) !== maskedCrc32c(file.subarray(at, at + 8))) return { records, stop: 'damaged' };
    const length = file.readBigUInt64LE(at);
    const end = at + HEADER_BYTES + Number(length) + FOOTER_BYTES;
    if (length > BigInt(file.length) || end > file.length) return { records, stop: 'cut' };
    const data = file.subarray(at + HEADER_BYTES, end - FOOTER_BYTES);
    if (file.readUInt32LE(end - FOOTER_BYTES) !== maskedCrc32c(data)) return { records, stop: 'damaged' };
    records.push({ data, end });
    at = end;
  }
  return { records, stop: 'end' };
}
