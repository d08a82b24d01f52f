// Builders of PNG files chunk by chunk, so tests can make hostile files the encoders refuse to write.
import { zlibSync } from "fflate";
import { crc32 } from "./crc32.js";

export const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/** One chunk: length, type, data and a correct CRC-32 (unless `crc` is given). */
export function pngChunk(type: string, data: Uint8Array, crc?: number): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(Array.from(type, (c) => c.charCodeAt(0)), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc ?? crc32(out.subarray(4, 8 + data.length)));
  return out;
}

export function ihdrData(width: number, height: number, depth = 8, colourType = 0, interlace = 0): Uint8Array {
  const data = new Uint8Array(13);
  const view = new DataView(data.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  data.set([depth, colourType, 0, 0, interlace], 8);
  return data;
}

export function pngFile(...chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(PNG_SIGNATURE.length + chunks.reduce((sum, c) => sum + c.length, 0));
  out.set(PNG_SIGNATURE);
  let at = PNG_SIGNATURE.length;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** A PNG from raw scanlines (each row: filter byte, then samples), compressed as one IDAT. */
export function pngFromScanlines(ihdr: Uint8Array, scanlines: Uint8Array, ...extra: Uint8Array[]): Uint8Array {
  return pngFile(pngChunk("IHDR", ihdr), ...extra, pngChunk("IDAT", zlibSync(scanlines)), pngChunk("IEND", new Uint8Array(0)));
}

/** 8-bit gray pixels as Adam7-interlaced scanlines, every row with filter 0 (none). */
export function adam7Scanlines(pixels: Uint8Array, width: number, height: number): Uint8Array {
  const passes = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];
  const bytes: number[] = [];
  for (const [x0, y0, dx, dy] of passes as [number, number, number, number][]) {
    if (x0 >= width) continue;
    for (let y = y0; y < height; y += dy) {
      bytes.push(0);
      for (let x = x0; x < width; x += dx) bytes.push(pixels[y * width + x]!);
    }
  }
  return Uint8Array.from(bytes);
}
