import CRC32C from "crc-32/crc32c.js";

/** CRC-32C (Castagnoli) of `bytes`, as an unsigned 32-bit number. */
export function crc32c(bytes: Uint8Array): number {
  // crc-32 returns a signed int32; TFRecord stores the unsigned value.
  return CRC32C.buf(bytes) >>> 0;
}

// The rotation and offset are TFRecord's: they keep a CRC computed over data
// that itself contains CRCs from looking like a valid CRC of that data.
const MASK_DELTA = 0xa282ead8;

/** The masked CRC-32C that TFRecord framing stores after the length and after the data. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32c(bytes);
  return (((crc >>> 15) | (crc << 17)) + MASK_DELTA) >>> 0;
}
