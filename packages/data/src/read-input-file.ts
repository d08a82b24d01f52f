import { readFile, stat } from "node:fs/promises";
import { checkDeclaredSize, type DecodeLimits } from "./limits.js";

/**
 * Reads a whole user file after checking its size against the decode limit, so that neither a
 * huge file nor a device that never ends is read into memory. No format decodes to less than
 * its file, so the decoded-size limit also bounds the file.
 */
export async function readInputFile(path: string, limits: DecodeLimits): Promise<Uint8Array> {
  const info = await stat(path);
  checkDeclaredSize(path, "file size", info.size, limits, `a ${info.size}-byte file`);
  const file = await readFile(path);
  checkDeclaredSize(path, "file size", file.length, limits, `a ${file.length}-byte file`);
  return new Uint8Array(file.buffer, file.byteOffset, file.length);
}
