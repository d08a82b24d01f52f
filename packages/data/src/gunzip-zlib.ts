import { gunzipSync } from "node:zlib";
import { printable } from "./errors.js";
import { checkGzipEnvelope, corruptGzip } from "./gunzip.js";
import type { DecodeLimits } from "./limits.js";

/**
 * Inflates gzip with node:zlib, which is about 1.8x faster than fflate plus our CRC check on the
 * 47 MB training images (280 ms vs 500 ms) and checks CRC and length itself. The trailer is
 * checked first as on the fflate path, and `maxOutputLength` stops a stream whose trailer lies
 * one byte past the declared length, so memory and time stay bounded by what was declared.
 */
export function gunzipWithZlib(bytes: Uint8Array, source: string, limits: DecodeLimits): Uint8Array {
  const declared = checkGzipEnvelope(bytes, source, limits);
  let inflated: Buffer;
  try {
    inflated = gunzipSync(bytes, { maxOutputLength: declared.length + 1 });
  } catch (error) {
    if ((error as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE") {
      throw corruptGzip(source, `${declared.length} bytes (the length in the gzip trailer)`, `more than ${declared.length} bytes`);
    }
    throw corruptGzip(source, "a valid gzip stream", printable(error instanceof Error ? error.message : String(error)));
  }
  if (inflated.length !== declared.length) {
    // zlib also inflates gzip members appended after the first; this reader takes one, as fflate does.
    throw corruptGzip(source, `${declared.length} bytes (the length in the gzip trailer)`, `${inflated.length} bytes`);
  }
  return new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.length);
}
