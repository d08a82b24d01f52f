import { encode } from "fast-png";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { crc32 } from "./crc32.js";
import { InputTooLargeError, PngFormatError } from "./errors.js";
import { decodePng } from "./png.js";
import { ihdrData, pngFromScanlines } from "./png.test-support.js";
import { realTestSlice } from "./mnist-slice.test-support.js";

// A limit far below what corrupted headers claim, so "allocates the declared size" would show,
// and the memory bound each case must stay under: a few times the limit (the decoder's own
// buffer, fast-png's inflate and unfilter, the conversion), nowhere near a declared gigabyte.
const MAX_BYTES = 4_000_000;
const MEMORY_BOUND = 32_000_000;
const TIME_BOUND_MS = 1000;
const SOURCE = "fuzz/digit.png";

let originals: Uint8Array[];

beforeAll(async () => {
  const digit = (await realTestSlice(1)).images.data as Uint8Array;
  const rgb = Uint8Array.from({ length: 28 * 28 * 3 }, (_, i) => digit[Math.floor(i / 3)]! ^ (i % 3) * 40);
  const scanlines = new Uint8Array(28 * 29);
  for (let y = 0; y < 28; y++) scanlines.set(digit.subarray(y * 28, (y + 1) * 28), y * 29 + 1);
  originals = [
    encode({ width: 28, height: 28, channels: 1, data: digit }),
    encode({ width: 28, height: 28, channels: 3, data: rgb }),
    encode({ width: 28, height: 28, channels: 1, depth: 16, data: Uint16Array.from(digit, (v) => v * 257) }),
    encode({ width: 28, height: 28, channels: 1, palette: Array.from({ length: 256 }, (_, i) => [i, 255 - i, i >> 1]), data: digit }),
    pngFromScanlines(ihdrData(28, 28), scanlines),
  ];
});

type Corruption =
  | { kind: "truncate"; at: number }
  | { kind: "flip"; flips: { at: number; xor: number }[]; fixCrc: boolean }
  | { kind: "insert"; at: number; bytes: number[] }
  | { kind: "header size"; width: number; height: number }
  | { kind: "header byte"; at: number; value: number }
  | { kind: "filter"; row: number; value: number };

const size = fc.oneof(fc.nat(64), fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(30000, 65535, 2 ** 31 - 1, 2 ** 31));
const corruptions: fc.Arbitrary<Corruption> = fc.oneof(
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("flip" as const),
    flips: fc.array(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 4 }),
    fixCrc: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant("header size" as const), width: size, height: size }),
  fc.record({ kind: fc.constant("header byte" as const), at: fc.integer({ min: 16, max: 28 }), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("filter" as const), row: fc.nat(27), value: fc.integer({ min: 0, max: 255 }) }),
);

/** Recomputes the CRC of every chunk whose length fits, so that corruptions reach the checks past the CRC. */
function fixCrcs(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 8; at + 12 <= bytes.length; ) {
    const length = view.getUint32(at);
    if (length > bytes.length - at - 12) return;
    view.setUint32(at + 8 + length, crc32(bytes.subarray(at + 4, at + 8 + length)));
    at += 12 + length;
  }
}

function corrupt(original: Uint8Array, corruption: Corruption): Uint8Array {
  const bytes = original.slice();
  switch (corruption.kind) {
    case "truncate":
      return bytes.subarray(0, corruption.at % (bytes.length + 1));
    case "flip":
      for (const { at, xor } of corruption.flips) bytes[at % bytes.length]! ^= xor;
      if (corruption.fixCrc) fixCrcs(bytes);
      return bytes;
    case "insert": {
      const at = corruption.at % (bytes.length + 1);
      return Uint8Array.from([...bytes.subarray(0, at), ...corruption.bytes, ...bytes.subarray(at)]);
    }
    case "header size":
      // IHDR data starts at byte 16 in every file (signature, length, type).
      new DataView(bytes.buffer).setUint32(16, corruption.width);
      new DataView(bytes.buffer).setUint32(20, corruption.height);
      fixCrcs(bytes);
      return bytes;
    case "header byte":
      bytes[corruption.at] = corruption.value;
      fixCrcs(bytes);
      return bytes;
    case "filter": {
      // A valid file whose compressed scanlines carry a chosen filter byte on one row.
      const scanlines = new Uint8Array(28 * 29);
      scanlines[corruption.row * 29] = corruption.value;
      return pngFromScanlines(ihdrData(28, 28), scanlines);
    }
  }
}

describe("decoding corrupted PNG files (property-based)", () => {
  it(`decodes to the declared size or throws PngFormatError / InputTooLargeError, within ${MEMORY_BOUND / 1e6} MB and ${TIME_BOUND_MS} ms`, () => {
    fc.assert(
      fc.property(fc.nat(), corruptions, (which, corruption) => {
        const bytes = corrupt(originals[which % originals.length]!, corruption);
        const memoryBefore = process.memoryUsage().arrayBuffers;
        const start = performance.now();
        try {
          const image = decodePng(bytes, SOURCE, { maxBytes: MAX_BYTES });
          const view = new DataView(bytes.buffer, bytes.byteOffset);
          expect([image.width, image.height]).toEqual([view.getUint32(16), view.getUint32(20)]);
          expect(image.data.length).toBe(image.width * image.height * image.channels);
        } catch (error) {
          if (error instanceof InputTooLargeError) {
            expect(error.declared).toBeGreaterThan(MAX_BYTES);
          } else if (error instanceof PngFormatError) {
            expect(error.message).toMatch(/^[\x20-\x7e]+$/);
          } else {
            throw error;
          }
          expect((error as Error).message.startsWith(`${SOURCE}: `)).toBe(true);
        }
        expect(performance.now() - start).toBeLessThan(TIME_BOUND_MS);
        expect(process.memoryUsage().arrayBuffers - memoryBefore).toBeLessThan(MEMORY_BOUND);
      }),
      { numRuns: 3000 },
    );
  });
});
