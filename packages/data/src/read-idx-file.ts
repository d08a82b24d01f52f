import { gunzipWithZlib } from "./gunzip-zlib.js";
import { isGzip } from "./gunzip.js";
import { decodeIdxPayload, type IdxArray } from "./idx.js";
import type { DecodeLimits } from "./limits.js";
import { readInputFile } from "./read-input-file.js";

/** Reads an IDX file, plain or gzip-compressed (recognised by its magic, whatever the name). */
export async function readIdxFile(path: string, limits: DecodeLimits = {}): Promise<IdxArray> {
  const bytes = await readInputFile(path, limits);
  // Both buffers below are ours alone, so byte data may be returned as views instead of copies.
  return decodeIdxPayload(isGzip(bytes) ? gunzipWithZlib(bytes, path, limits) : bytes, path, true, limits);
}
