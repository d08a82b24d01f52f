import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encode, type ImageData } from "fast-png";
import { deflateSync } from "node:zlib";
import { zlibSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputTooLargeError, PngFormatError } from "./errors.js";
import { DEFAULT_MAX_BYTES } from "./limits.js";
import { decodePng } from "./png.js";
import { adam7Scanlines, ihdrData, pngChunk, pngFile, pngFromScanlines } from "./png.test-support.js";
import { preprocessDigit } from "./preprocess.js";
import { readPngFile } from "./read-png-file.js";
import { realTestSlice } from "./mnist-slice.test-support.js";
import { caught } from "./caught.test-support.js";

let digit: Uint8Array;
let dir: string;
beforeAll(async () => {
  digit = (await realTestSlice(1)).images.data as Uint8Array;
  dir = await mkdtemp(join(tmpdir(), "mnist-data-png-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function expectPngError(error: unknown, path: string, field: string | RegExp): PngFormatError {
  expect(error).toBeInstanceOf(PngFormatError);
  const pngError = error as PngFormatError;
  expect(pngError.path).toBe(path);
  expect(pngError.field).toMatch(field);
  expect(pngError.message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: bad PNG `));
  // Printable ASCII only: nothing from the file reaches a terminal raw.
  expect(pngError.message).toMatch(/^[\x20-\x7e]+$/);
  return pngError;
}

/** arrayBuffers growth while `run` executes, in bytes (allocations made and still held or not yet collected). */
function arrayBufferGrowth(run: () => void): number {
  const before = process.memoryUsage().arrayBuffers;
  run();
  return process.memoryUsage().arrayBuffers - before;
}

describe("decodePng", () => {
  const rgbOf = (gray: Uint8Array) => Uint8Array.from({ length: gray.length * 3 }, (_, i) => (gray[Math.floor(i / 3)]! * (1 + (i % 3))) >> 2);
  const cases: [string, () => ImageData, (image: ImageData) => ArrayLike<number>, number][] = [
    ["8-bit gray", () => ({ width: 28, height: 28, channels: 1, data: digit }), (i) => i.data as Uint8Array, 1],
    ["16-bit gray", () => ({ width: 28, height: 28, channels: 1, depth: 16, data: Uint16Array.from(digit, (v) => v * 257) }), (i) => i.data as Uint16Array, 1],
    ["gray+alpha", () => ({ width: 28, height: 28, channels: 2, data: Uint8Array.from({ length: 28 * 28 * 2 }, (_, i) => (i % 2 ? 255 - digit[i >> 1]! : digit[i >> 1]!)) }), (i) => i.data as Uint8Array, 2],
    ["RGB", () => ({ width: 28, height: 28, channels: 3, data: rgbOf(digit) }), (i) => i.data as Uint8Array, 3],
    ["RGBA", () => ({ width: 14, height: 14, channels: 4, data: digit.subarray(0, 14 * 14 * 4) }), (i) => i.data as Uint8Array, 4],
  ];

  it.each(cases)("decodes %s to the samples fast-png's encoder was given", (_, make, expected, channels) => {
    const image = make();
    const decoded = decodePng(encode(image), "digit.png");
    expect([decoded.width, decoded.height, decoded.channels]).toEqual([image.width, image.height, channels]);
    expect(Array.from(decoded.data)).toEqual(Array.from(expected(image)));
  });

  it("unpacks low bit depths and palettes to the same picture", () => {
    // A 13x7 (odd width, so rows end mid-byte) black/white pattern.
    const width = 13;
    const height = 7;
    const bits = Array.from({ length: width * height }, (_, i) => ((i % width) + Math.floor(i / width)) % 3 === 0);
    const rowBytes = Math.ceil(width / 8);
    const packed = new Uint8Array(rowBytes * height);
    bits.forEach((on, i) => {
      const x = i % width;
      const y = Math.floor(i / width);
      if (on) packed[y * rowBytes + (x >> 3)]! |= 0x80 >> (x & 7);
    });
    const oneBit = decodePng(encode({ width, height, channels: 1, depth: 1, data: packed }), "1-bit.png");
    const eightBit = decodePng(encode({ width, height, channels: 1, data: Uint8Array.from(bits, (on) => (on ? 255 : 0)) }), "8-bit.png");
    const palette = decodePng(
      encode({ width, height, channels: 1, depth: 8, palette: [[0, 0, 0], [255, 255, 255]], data: Uint8Array.from(bits, (on) => (on ? 1 : 0)) }),
      "palette.png",
    );
    expect(Array.from(oneBit.data)).toEqual(bits.map((on) => (on ? 1 : 0)));
    expect(oneBit.maxValue).toBe(1);
    const expected = Array.from(preprocessDigit(eightBit).pixels);
    expect(Array.from(preprocessDigit(oneBit).pixels)).toEqual(expected);
    expect(palette.channels).toBe(3);
    expect(Array.from(preprocessDigit(palette).pixels)).toEqual(expected);
  });

  it("reads an Adam7-interlaced image as the same pixels as a plain one", () => {
    for (const [width, height] of [[28, 28], [13, 11], [1, 1], [3, 9]] as const) {
      const pixels = digit.subarray(0, width * height);
      const decoded = decodePng(pngFromScanlines(ihdrData(width, height, 8, 0, 1), adam7Scanlines(pixels, width, height)), "interlaced.png");
      expect(Array.from(decoded.data)).toEqual(Array.from(pixels));
    }
  });

  it("ignores ancillary chunks, even a compressed profile that would inflate to 50 MB", () => {
    const profileBomb = pngChunk("iCCP", Uint8Array.from([...new TextEncoder().encode("icc"), 0, 0, ...deflateSync(new Uint8Array(50_000_000), { level: 9 })]));
    const scanlines = new Uint8Array(29 * 28);
    for (let y = 0; y < 28; y++) scanlines.set(digit.subarray(y * 28, (y + 1) * 28), y * 29 + 1);
    let decoded: ReturnType<typeof decodePng> | undefined;
    expect(arrayBufferGrowth(() => (decoded = decodePng(pngFromScanlines(ihdrData(28, 28), scanlines, profileBomb), "profile.png")))).toBeLessThan(8_000_000);
    expect(Array.from(decoded!.data)).toEqual(Array.from(digit));
  });
});

describe("decodePng with hostile files", () => {
  it("refuses a small file declaring 30000x30000 pixels before allocating, naming file, size, limit and flag", () => {
    const file = pngFromScanlines(ihdrData(30000, 30000), new Uint8Array(100));
    expect(file.length).toBeLessThan(200);
    let error: unknown;
    expect(arrayBufferGrowth(() => (error = caught(() => decodePng(file, "huge.png"))))).toBeLessThan(1_000_000);
    expect(error).toBeInstanceOf(InputTooLargeError);
    const limitError = error as InputTooLargeError;
    // 30000 rows of a filter byte and 30000 gray bytes each.
    expect([limitError.path, limitError.field, limitError.declared, limitError.limit]).toEqual(["huge.png", "PNG header", 30000 * 30001, DEFAULT_MAX_BYTES]);
    expect(limitError.message).toMatch(/^huge\.png: PNG header: expected a decoded size of at most 64000000 bytes, found 30000x30000 gray pixels of 8 bits = 900030000 bytes declared\. Hint: .*--max-input-mb 901\b/);
    expect(limitError.message).not.toContain("\n");
  });

  it("counts colour, alpha and 16-bit samples in the declared size, and takes a raised limit", () => {
    const rgba16 = pngFromScanlines(ihdrData(2000, 1000, 16, 6), new Uint8Array(10));
    const error = caught(() => decodePng(rgba16, "rgba16.png", { maxBytes: 15_000_000 })) as InputTooLargeError;
    expect(error).toBeInstanceOf(InputTooLargeError);
    expect(error.declared).toBe(1000 * (1 + 2000 * 8));
    // Within a raised limit the size check passes and the (too short) data is what is wrong.
    expectPngError(caught(() => decodePng(rgba16, "rgba16.png", { maxBytes: 17_000_000 })), "rgba16.png", "image data");
  });

  it("stops image data that inflates past what the header declares (a zlib bomb behind a 10x10 header)", () => {
    const bomb = pngFile(pngChunk("IHDR", ihdrData(10, 10)), pngChunk("IDAT", deflateSync(new Uint8Array(50_000_000), { level: 9 })), pngChunk("IEND", new Uint8Array(0)));
    expect(bomb.length).toBeLessThan(100_000);
    let error: unknown;
    // A few MB of inflater buffers at most, not the 50 MB the stream holds.
    expect(arrayBufferGrowth(() => (error = caught(() => decodePng(bomb, "bomb.png"))))).toBeLessThan(8_000_000);
    expect(expectPngError(error, "bomb.png", "image data").actual).toBe("more than 110 bytes");
  });

  const valid = () => encode({ width: 28, height: 28, channels: 1, data: digit });
  const hostile: [string, () => Uint8Array, string | RegExp][] = [
    ["a GIF", () => new TextEncoder().encode("GIF89a\x1b[31m..."), "signature"],
    ["an empty file", () => new Uint8Array(0), "signature"],
    ["the signature alone", () => valid().subarray(0, 8), "layout"],
    ["a file cut inside IHDR", () => valid().subarray(0, 20), /IHDR chunk length|layout/],
    ["a file cut inside IDAT", () => valid().subarray(0, 60), "IDAT chunk length"],
    ["a file cut before IEND", () => valid().subarray(0, valid().length - 12), "layout"],
    ["a flipped bit in IDAT", () => { const f = valid(); f[50]! ^= 4; return f; }, "IDAT chunk CRC"],
    ["a damaged IHDR CRC", () => { const f = valid(); f[29]! ^= 1; return f; }, "IHDR chunk CRC"],
    ["a chunk type with control characters", () => pngFile(pngChunk("IHDR", ihdrData(1, 1)), pngChunk("\x00\x1b[m", new Uint8Array(1))), "chunk type"],
    ["an unknown critical chunk", () => pngFile(pngChunk("IHDR", ihdrData(1, 1)), pngChunk("ZZZZ", new Uint8Array(1))), "critical chunk"],
    ["IDAT before IHDR", () => pngFile(pngChunk("IDAT", zlibSync(Uint8Array.of(0, 0))), pngChunk("IHDR", ihdrData(1, 1))), "first chunk"],
    ["a zero width", () => pngFromScanlines(ihdrData(0, 5), new Uint8Array(5)), "IHDR size"],
    ["a width of 2^31", () => pngFromScanlines(ihdrData(2 ** 31, 1), new Uint8Array(5)), "IHDR size"],
    ["bit depth 3", () => pngFromScanlines(ihdrData(1, 1, 3), Uint8Array.of(0, 0)), "IHDR bit depth"],
    ["16-bit palette", () => pngFromScanlines(ihdrData(1, 1, 16, 3), Uint8Array.of(0, 0, 0)), "IHDR bit depth"],
    ["colour type 5", () => pngFromScanlines(ihdrData(1, 1, 8, 5), Uint8Array.of(0, 0)), "IHDR colour type"],
    ["interlace method 2", () => pngFromScanlines(ihdrData(1, 1, 8, 0, 2), Uint8Array.of(0, 0)), "IHDR methods"],
    ["no IDAT", () => pngFile(pngChunk("IHDR", ihdrData(1, 1)), pngChunk("IEND", new Uint8Array(0))), "IDAT"],
    ["a palette image without PLTE", () => pngFromScanlines(ihdrData(1, 1, 8, 3), Uint8Array.of(0, 0)), "PLTE"],
    ["a palette index beyond the palette", () => pngFromScanlines(ihdrData(2, 1, 8, 3), Uint8Array.of(0, 0, 9), pngChunk("PLTE", Uint8Array.of(1, 2, 3))), "image data"],
    ["filter type 7 (fast-png: \"Unsupported filter\")", () => pngFromScanlines(ihdrData(2, 2), Uint8Array.of(0, 1, 2, 7, 3, 4)), "filter type"],
    ["image data one row short", () => pngFromScanlines(ihdrData(4, 4), new Uint8Array(15)), "image data"],
    ["image data that is not zlib", () => pngFile(pngChunk("IHDR", ihdrData(1, 1)), pngChunk("IDAT", Uint8Array.of(1, 2, 3, 4)), pngChunk("IEND", new Uint8Array(0))), "image data"],
  ];

  it.each(hostile)("rejects %s with PngFormatError naming the file and the fault", (_, make, field) => {
    expectPngError(caught(() => decodePng(make(), "bad.png")), "bad.png", field);
  });

  it("never passes on an engine message as the reason", () => {
    for (const [, make] of hostile) {
      expect((caught(() => decodePng(make(), "bad.png")) as Error).message).not.toMatch(/DataView|undefined|Unsupported filter|Offset is outside/);
    }
  });
});

describe("readPngFile", () => {
  it("reads a PNG file, and refuses one larger than the limit before reading it", async () => {
    const path = join(dir, "digit.png");
    await writeFile(path, encode({ width: 28, height: 28, channels: 1, data: digit }));
    expect(Array.from((await readPngFile(path)).data)).toEqual(Array.from(digit));
    const error = (await readPngFile(path, { maxBytes: 100 }).catch((e: unknown) => e)) as InputTooLargeError;
    expect(error).toBeInstanceOf(InputTooLargeError);
    expect([error.path, error.field, error.limit]).toEqual([path, "file size", 100]);
  });
});
