import { convertIndexedToRgb, decode, type DecodedPng } from "fast-png";
import { Unzlib } from "fflate";
import { crc32 } from "./crc32.js";
import { PngFormatError, printable } from "./errors.js";
import { checkDeclaredSize, type DecodeLimits } from "./limits.js";
import type { DigitImage } from "./preprocess.js";

// PNG as the W3C PNG specification (third edition) defines it. Every length, size, checksum and
// filter is checked here, before fast-png sees the file, so that fast-png only ever decodes a
// file whose allocations are known and within the limit, and its own messages (written for
// programmers, e.g. "Offset is outside the bounds of the DataView") never reach a user.

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const MAX_UINT31 = 0x7fffffff;
const COLOUR_TYPES: Readonly<Record<number, { name: string; channels: number; depths: readonly number[] }>> = {
  0: { name: "gray", channels: 1, depths: [1, 2, 4, 8, 16] },
  2: { name: "RGB", channels: 3, depths: [8, 16] },
  3: { name: "indexed", channels: 1, depths: [1, 2, 4, 8] },
  4: { name: "gray+alpha", channels: 2, depths: [8, 16] },
  6: { name: "RGBA", channels: 4, depths: [8, 16] },
};
const INDEXED = 3;
// Adam7 passes: first column, first row, column step, row step.
const ADAM7 = [
  [0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2],
] as const;
// Compressed bytes handed to the inflater at a time: deflate expands at most 1032-fold, so one
// step never produces more than about 1 MB before the running total is checked.
const INFLATE_STEP = 1024;
const FILTER_TYPES = 5;

interface Chunk {
  type: string;
  /** The whole chunk: length, type, data and CRC. */
  bytes: Uint8Array;
  data: Uint8Array;
}

interface Header {
  width: number;
  height: number;
  depth: number;
  colourType: number;
  interlaced: boolean;
}

type Fail = (field: string, expected: string, actual: string) => PngFormatError;

/**
 * Decodes a PNG of any bit depth, palette, gray or colour, with or without alpha, interlaced or
 * not. `source` names the file in errors. Throws PngFormatError for anything that is not a valid
 * PNG, and InputTooLargeError, before allocating, when the image declared by the header (or its
 * compressed scanlines) would decode to more than `limits.maxBytes`.
 */
export function decodePng(bytes: Uint8Array, source = "<bytes>", limits: DecodeLimits = {}): DigitImage {
  const fail: Fail = (field, expected, actual) => new PngFormatError(source, field, expected, actual);
  if (bytes.length < SIGNATURE.length || SIGNATURE.some((b, i) => bytes[i] !== b)) {
    throw fail("signature", "the bytes 89 50 4E 47 0D 0A 1A 0A at the start", hex(bytes.subarray(0, SIGNATURE.length)) || "an empty file");
  }
  const chunks = readChunks(bytes, fail);
  const ihdr = chunks[0]!;
  const header = readHeader(ihdr.data, fail);
  const { channels, name } = COLOUR_TYPES[header.colourType]!;
  const palette = header.colourType === INDEXED ? chunks.find((c) => c.type === "PLTE") : undefined;
  if (header.colourType === INDEXED) {
    if (palette === undefined) throw fail("PLTE", "a palette chunk in an indexed-colour image", "none");
    if (palette.data.length === 0 || palette.data.length % 3 !== 0 || palette.data.length > 256 * 3) {
      throw fail("PLTE", "1 to 256 colours of 3 bytes", `${palette.data.length} bytes`);
    }
  }
  const transparency = palette === undefined ? undefined : chunks.find((c) => c.type === "tRNS");
  const idat = chunks.filter((c) => c.type === "IDAT");
  if (idat.length === 0) throw fail("IDAT", "at least one image data chunk", "none");

  const outChannels = palette === undefined ? channels : transparency === undefined ? 3 : 4;
  const decodedLength = header.width * header.height * outChannels * (header.depth === 16 ? 2 : 1);
  const rows = scanlineRuns(header, channels);
  const rawLength = rows.reduce((sum, run) => sum + run.count * (1 + run.rowBytes), 0);
  checkDeclaredSize(
    source,
    "PNG header",
    Math.max(decodedLength, rawLength),
    limits,
    `${header.width}x${header.height} ${name} pixels of ${header.depth} bits = ${Math.max(decodedLength, rawLength)} bytes declared`,
  );
  checkScanlines(inflateExactly(concat(idat.map((c) => c.data)), rawLength, fail), rows, fail);

  // fast-png gets only what it needs: no ancillary chunk (an iCCP profile is one more zlib stream).
  const essential = [ihdr, ...(palette ? [palette] : []), ...(transparency ? [transparency] : []), ...idat, chunks.at(-1)!];
  try {
    return toDigitImage(decode(concat([Uint8Array.from(SIGNATURE), ...essential.map((c) => c.bytes)])), outChannels);
  } catch (error) {
    throw fail("image data", "pixels the decoder accepts", printable(error instanceof Error ? error.message : String(error)));
  }
}

function readChunks(bytes: Uint8Array, fail: Fail): Chunk[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: Chunk[] = [];
  for (let at = SIGNATURE.length; ; ) {
    if (at + 12 > bytes.length) {
      throw fail("layout", "chunks up to an IEND chunk", `the file ends ${at === bytes.length ? "" : `with ${bytes.length - at} stray byte(s) `}after ${chunks.length} chunk(s) (truncated?)`);
    }
    const length = view.getUint32(at);
    const typeBytes = bytes.subarray(at + 4, at + 8);
    const type = String.fromCharCode(...typeBytes);
    if (!/^[A-Za-z]{4}$/.test(type)) throw fail("chunk type", "four ASCII letters", `${hex(typeBytes)} at offset ${at + 4}`);
    if (length > MAX_UINT31 || length > bytes.length - at - 12) {
      throw fail(`${type} chunk length`, `at most the ${bytes.length - at - 12} bytes left in the file`, `${length} (truncated file?)`);
    }
    const stored = view.getUint32(at + 8 + length);
    const actual = crc32(bytes.subarray(at + 4, at + 8 + length));
    if (stored !== actual) throw fail(`${type} chunk CRC`, `CRC-32 ${hex32(actual)}`, `${hex32(stored)} (damaged file?)`);
    if (chunks.length === 0 && type !== "IHDR") throw fail("first chunk", "IHDR", type);
    // A lowercase first letter marks an ancillary chunk, which a decoder may skip; an unknown critical one it may not.
    if (type !== "IHDR" && type !== "PLTE" && type !== "IDAT" && type !== "IEND" && type.charCodeAt(0) < 0x61) {
      throw fail("critical chunk", "IHDR, PLTE, IDAT or IEND", type);
    }
    chunks.push({ type, bytes: bytes.subarray(at, at + 12 + length), data: bytes.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
    if (type === "IEND") return chunks;
  }
}

function readHeader(data: Uint8Array, fail: Fail): Header {
  if (data.length !== 13) throw fail("IHDR", "13 bytes", `${data.length} bytes`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const [width, height] = [view.getUint32(0), view.getUint32(4)];
  if (width === 0 || height === 0 || width > MAX_UINT31 || height > MAX_UINT31) {
    throw fail("IHDR size", "width and height from 1 to 2^31-1", `${width}x${height}`);
  }
  const [depth, colourType, compression, filter, interlace] = [data[8]!, data[9]!, data[10]!, data[11]!, data[12]!];
  const colour = COLOUR_TYPES[colourType];
  if (colour === undefined) throw fail("IHDR colour type", "0, 2, 3, 4 or 6", String(colourType));
  if (!colour.depths.includes(depth)) throw fail("IHDR bit depth", `${colour.depths.join(", ")} for ${colour.name}`, String(depth));
  if (compression !== 0 || filter !== 0 || interlace > 1) {
    throw fail("IHDR methods", "compression 0, filter 0, interlace 0 or 1", `${compression}, ${filter}, ${interlace}`);
  }
  return { width, height, depth, colourType, interlaced: interlace === 1 };
}

/** Rows of filtered scanlines in stream order: one run, or one per non-empty Adam7 pass. */
function scanlineRuns(header: Header, channels: number): { count: number; rowBytes: number }[] {
  const bitsPerPixel = channels * header.depth;
  const run = (width: number, count: number) => ({ count, rowBytes: Math.ceil((width * bitsPerPixel) / 8) });
  if (!header.interlaced) return [run(header.width, header.height)];
  return ADAM7.map(([x0, y0, dx, dy]) => run(Math.ceil((header.width - x0) / dx), Math.ceil((header.height - y0) / dy))).filter(
    (r) => r.count > 0 && r.rowBytes > 0,
  );
}

/** Inflates the image data into a buffer of exactly `length` bytes, stopping as soon as the stream runs past it. */
function inflateExactly(compressed: Uint8Array, length: number, fail: Fail): Uint8Array {
  const out = new Uint8Array(length);
  let written = 0;
  let overflow = false;
  const inflater = new Unzlib((chunk) => {
    if (overflow || written + chunk.length > length) {
      overflow = true;
      return;
    }
    out.set(chunk, written);
    written += chunk.length;
  });
  try {
    for (let at = 0; at < compressed.length && !overflow; at += INFLATE_STEP) {
      inflater.push(compressed.subarray(at, at + INFLATE_STEP), at + INFLATE_STEP >= compressed.length);
    }
  } catch (error) {
    throw fail("image data", "a valid zlib stream", printable(error instanceof Error ? error.message : String(error)));
  }
  if (overflow || written !== length) {
    throw fail("image data", `${length} bytes of scanlines (what IHDR declares)`, overflow ? `more than ${length} bytes` : `${written} bytes`);
  }
  return out;
}

function checkScanlines(raw: Uint8Array, runs: { count: number; rowBytes: number }[], fail: Fail): void {
  let at = 0;
  let row = 0;
  for (const { count, rowBytes } of runs) {
    for (let y = 0; y < count; y++, row++, at += 1 + rowBytes) {
      if (raw[at]! >= FILTER_TYPES) throw fail("filter type", "0 to 4 at the start of each scanline", `${raw[at]} on scanline ${row}`);
    }
  }
}

function toDigitImage(png: DecodedPng, outChannels: number): DigitImage {
  const { width, height } = png;
  if (png.palette) return { width, height, channels: outChannels as 3 | 4, data: convertIndexedToRgb(png) };
  if (png.depth < 8) {
    return { width, height, channels: 1, data: unpackLowDepthGray(png.data, width, height, png.depth), maxValue: (1 << png.depth) - 1 };
  }
  return { width, height, channels: outChannels as 1 | 2 | 3 | 4, data: png.data, maxValue: png.depth === 16 ? 65535 : 255 };
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

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0").toUpperCase()).join(" ");
}

function hex32(value: number): string {
  return value.toString(16).padStart(8, "0");
}
