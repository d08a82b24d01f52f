import { maskedCrc32c } from "./crc32c.js";

/** Bytes TFRecord framing adds around each record: 8 length, 4 length CRC, 4 data CRC. */
export const RECORD_OVERHEAD = 16;

/**
 * One TFRecord: uint64 length, masked CRC-32C of those 8 bytes, the data,
 * masked CRC-32C of the data, all little-endian. Readers check both CRCs, so a
 * record cut short by a crash is detected instead of misread.
 */
export function frameRecord(data: Uint8Array): Uint8Array {
  const record = new Uint8Array(RECORD_OVERHEAD + data.length);
  const view = new DataView(record.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(record.subarray(0, 8)), true);
  record.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return record;
}
