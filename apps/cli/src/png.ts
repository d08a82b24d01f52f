import { readFile } from "node:fs/promises";
import { convertIndexedToRgb, decode, hasPngSignature } from "fast-png";
import type { DigitImage } from "@mnist/data";

/** A file given to `predict` that is missing or is not a PNG fast-png can decode. */
export class PngReadError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`cannot read PNG ${path}: ${reason}. Hint: pass PNG files (any size, grayscale or colour).`);
    this.name = "PngReadError";
  }
}

/** Reads a PNG of any bit depth, palette, gray or colour, with or without alpha. */
export async function readPng(path: string): Promise<DigitImage> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new PngReadError(path, (error as NodeJS.ErrnoException).code ?? String(error));
  }
  return decodePngBytes(bytes, path);
}

export function decodePngBytes(bytes: Uint8Array, path: string): DigitImage {
  if (!hasPngSignature(bytes)) {
    throw new PngReadError(path, "expected the PNG signature 89 50 4E 47 at the start, found other bytes");
  }
  try {
    const png = decode(bytes);
    const { width, height } = png;
    if (png.palette) {
      const rgb = convertIndexedToRgb(png);
      return { width, height, channels: asChannels(rgb.length / (width * height)), data: rgb };
    }
    if (png.depth < 8) {
      return { width, height, channels: 1, data: unpackLowDepthGray(png.data, width, height, png.depth), maxValue: (1 << png.depth) - 1 };
    }
    return { width, height, channels: asChannels(png.channels), data: png.data, maxValue: png.depth === 16 ? 65535 : 255 };
  } catch (error) {
    if (error instanceof PngReadError) throw error;
    throw new PngReadError(path, (error as Error).message);
  }
}

function asChannels(channels: number): 1 | 2 | 3 | 4 {
  if (channels === 1 || channels === 2 || channels === 3 || channels === 4) return channels;
  throw new Error(`unsupported channel count ${channels}`);
}

// Gray PNGs of 1, 2 or 4 bits pack several pixels per byte, each row padded to a whole byte.
function unpackLowDepthGray(packed: ArrayLike<number>, width: number, height: number, depth: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const byte = packed[y * rowBytes + (bit >> 3)]!;
      out[y * width + x] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}
