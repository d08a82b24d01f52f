import type { DecodeLimits } from "./limits.js";
import { decodePng } from "./png.js";
import type { DigitImage } from "./preprocess.js";
import { readInputFile } from "./read-input-file.js";

/** Reads and decodes a PNG file within `limits` (see decodePng); a missing file throws the fs error. */
export async function readPngFile(path: string, limits: DecodeLimits = {}): Promise<DigitImage> {
  return decodePng(await readInputFile(path, limits), path, limits);
}
