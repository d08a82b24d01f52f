import { gunzipSync } from "fflate";
import { IdxFormatError } from "./errors.js";

/** Default cap on decompressed size: 1 GiB holds every IDX data set in use (MNIST training images are 47 MB). */
export const DEFAULT_MAX_BYTES = 2 ** 30;

// One deflate length code (258 bytes) costs at least 2 bits, so no valid stream inflates more
// than 1032-fold; a trailer claiming more is corrupt and must not size an allocation.
const DEFLATE_MAX_RATIO = 1032;
const GZIP_MIN_LENGTH = 18; // 10-byte header + 8-byte trailer
// RFC 1952 asks a reader to reject these (fflate ignores them; zlib rejects them).
const GZIP_RESERVED_FLAGS = 0xe0;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Inflates a single-member gzip file in a browser-safe way (fflate). The output buffer is sized
 * from the trailer only after the trailer is checked against `maxBytes` and the input length,
 * and the result is checked against the trailer's length and CRC-32, which fflate skips.
 */
export function gunzip(bytes: Uint8Array, source: string, maxBytes: number): Uint8Array {
  const corrupt = (expected: string, actual: string, field = "gzip stream") =>
    new IdxFormatError({ path: source, field, expected, actual, hint: "the .gz file is damaged or incomplete; download it again" });
  if (bytes.length < GZIP_MIN_LENGTH || bytes[2] !== 8) {
    throw corrupt("a gzip header with method 8 (deflate) and an 8-byte trailer", `${bytes.length} bytes, method ${bytes[2] ?? "missing"}`);
  }
  const flags = bytes[3]!;
  if (flags & GZIP_RESERVED_FLAGS) {
    throw corrupt("reserved gzip flag bits clear", `flags 0x${flags.toString(16).padStart(2, "0")}`, "gzip header");
  }
  const trailer = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 8, 8);
  const declaredCrc = trailer.getUint32(0, true);
  const declaredLength = trailer.getUint32(4, true);
  if (declaredLength > maxBytes) {
    throw new IdxFormatError({
      path: source,
      field: "decompressed size",
      expected: `at most ${maxBytes} bytes`,
      actual: `${declaredLength} bytes declared by the gzip trailer`,
      hint: "raise maxBytes if this file is really that large",
    });
  }
  if (declaredLength > bytes.length * DEFLATE_MAX_RATIO + 1024) {
    throw corrupt(`at most ${bytes.length * DEFLATE_MAX_RATIO} bytes from ${bytes.length} compressed bytes`, `${declaredLength} bytes declared by the trailer`, "gzip trailer");
  }
  // One spare byte reveals a stream longer than its trailer says: fflate drops writes past the end.
  const out = new Uint8Array(declaredLength + 1);
  let inflated: Uint8Array;
  try {
    inflated = gunzipSync(bytes, { out });
  } catch (error) {
    throw corrupt("a valid deflate stream", error instanceof Error ? error.message : String(error));
  }
  if (inflated.length !== declaredLength) {
    const found = inflated.length > declaredLength ? `more than ${declaredLength}` : String(inflated.length);
    throw corrupt(`${declaredLength} bytes (the length in the gzip trailer)`, `${found} bytes`);
  }
  const actualCrc = crc32(inflated);
  if (actualCrc !== declaredCrc) {
    throw corrupt(`CRC-32 ${declaredCrc.toString(16).padStart(8, "0")}`, `CRC-32 ${actualCrc.toString(16).padStart(8, "0")}`, "gzip checksum");
  }
  return inflated;
}

// CRC-32 (IEEE, reflected polynomial 0xEDB88320) with eight tables, one per byte of an 8-byte
// step, so that checking a 47 MB file costs about 50 ms instead of 120 ms byte by byte.
const CRC_TABLES = (() => {
  const tables = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    tables[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) {
      const previous = tables[(k - 1) * 256 + n] ?? 0;
      tables[k * 256 + n] = (tables[previous & 0xff] ?? 0) ^ (previous >>> 8);
    }
  }
  return tables;
})();

export function crc32(bytes: Uint8Array): number {
  const t = CRC_TABLES;
  let c = -1;
  let i = 0;
  const end8 = bytes.length - 8;
  for (; i <= end8; i += 8) {
    c ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    c =
      t[1792 + (c & 0xff)]! ^ t[1536 + ((c >>> 8) & 0xff)]! ^ t[1280 + ((c >>> 16) & 0xff)]! ^ t[1024 + (c >>> 24)]! ^
      t[768 + bytes[i + 4]!]! ^ t[512 + bytes[i + 5]!]! ^ t[256 + bytes[i + 6]!]! ^ t[bytes[i + 7]!]!;
  }
  for (; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
