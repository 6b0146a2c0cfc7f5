/**
 * Types of the CRC32C module of the `crc-32` package (SheetJS), which ships types for its CRC-32
 * entry point only; this entry point has the same API, for the Castagnoli polynomial.
 */
declare module 'crc-32/crc32c.js' {
  /** The signed 32-bit CRC32C of `data` (`>>> 0` gives the unsigned value). */
  export function buf(data: Uint8Array | number[], seed?: number): number;
}
