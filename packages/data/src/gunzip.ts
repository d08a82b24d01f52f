import { gunzipSync } from "fflate";
import { crc32 } from "./crc32.js";
import { IdxFormatError, printable } from "./errors.js";
import { checkDeclaredSize, type DecodeLimits } from "./limits.js";

// One deflate length code (258 bytes) costs at least 2 bits, so no valid stream inflates more
// than 1032-fold; a trailer claiming more is corrupt and must not size an allocation.
const DEFLATE_MAX_RATIO = 1032;
const GZIP_MIN_LENGTH = 18; // 10-byte header + 8-byte trailer
// RFC 1952 asks a reader to reject these (fflate ignores them; zlib rejects them).
const GZIP_RESERVED_FLAGS = 0xe0;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

export function corruptGzip(source: string, expected: string, actual: string, field = "gzip stream"): IdxFormatError {
  return new IdxFormatError(source, field, expected, actual, "the .gz file is damaged or incomplete; download it again");
}

/** What a single-member gzip file's trailer declares, after the checks both inflaters share. */
export interface GzipTrailer {
  crc: number;
  /** Decompressed length (the trailer's ISIZE); exact for files below 4 GiB, which the limit guarantees. */
  length: number;
}

/**
 * Checks the header and the trailer's declared length against the decode limit and against
 * what deflate can produce from the file, before any inflating: a gzip bomb with an honest
 * trailer is refused here, and one with a lying trailer is stopped at the declared length.
 */
export function checkGzipEnvelope(bytes: Uint8Array, source: string, limits: DecodeLimits): GzipTrailer {
  if (bytes.length < GZIP_MIN_LENGTH || bytes[2] !== 8) {
    throw corruptGzip(source, "a gzip header with method 8 (deflate) and an 8-byte trailer", `${bytes.length} bytes, method ${bytes[2] ?? "missing"}`);
  }
  const flags = bytes[3]!;
  if (flags & GZIP_RESERVED_FLAGS) {
    throw corruptGzip(source, "reserved gzip flag bits clear", `flags 0x${flags.toString(16).padStart(2, "0")}`, "gzip header");
  }
  const trailer = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 8, 8);
  const length = trailer.getUint32(4, true);
  if (length > bytes.length * DEFLATE_MAX_RATIO + 1024) {
    throw corruptGzip(source, `at most ${bytes.length * DEFLATE_MAX_RATIO} bytes from ${bytes.length} compressed bytes`, `${length} bytes declared by the trailer`, "gzip trailer");
  }
  checkDeclaredSize(source, "gzip trailer", length, limits, `${length} bytes declared by the gzip trailer`);
  return { crc: trailer.getUint32(0, true), length };
}

/**
 * Inflates a single-member gzip file in a browser-safe way (fflate) into a buffer sized from
 * the checked trailer, then checks the result against the trailer's length and CRC-32, which
 * fflate skips.
 */
export function gunzip(bytes: Uint8Array, source: string, limits: DecodeLimits): Uint8Array {
  const declared = checkGzipEnvelope(bytes, source, limits);
  // One spare byte reveals a stream longer than its trailer says: fflate drops writes past the end.
  const out = new Uint8Array(declared.length + 1);
  let inflated: Uint8Array;
  try {
    inflated = gunzipSync(bytes, { out });
  } catch (error) {
    throw corruptGzip(source, "a valid deflate stream", printable(error instanceof Error ? error.message : String(error)));
  }
  if (inflated.length !== declared.length) {
    const found = inflated.length > declared.length ? `more than ${declared.length}` : String(inflated.length);
    throw corruptGzip(source, `${declared.length} bytes (the length in the gzip trailer)`, `${found} bytes`);
  }
  const actualCrc = crc32(inflated);
  if (actualCrc !== declared.crc) {
    throw corruptGzip(source, `CRC-32 ${declared.crc.toString(16).padStart(8, "0")}`, `CRC-32 ${actualCrc.toString(16).padStart(8, "0")}`, "gzip checksum");
  }
  return inflated;
}
