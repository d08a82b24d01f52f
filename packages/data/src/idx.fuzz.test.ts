import { gunzipSync as zlibGunzip } from "node:zlib";
import fc from "fast-check";
import { gzipSync } from "fflate";
import { beforeAll, describe, expect, it } from "vitest";
import { IdxFormatError, InputTooLargeError } from "./errors.js";
import { decodeIdx, decodeIdxPayload, encodeIdx, type IdxArray } from "./idx.js";
import { mnistSplitFromIdx } from "./mnist.js";
import { gunzipWithZlib } from "./gunzip-zlib.js";
import { realTestSlice } from "./mnist-slice.test-support.js";

// A cap far below what corrupted headers claim, so "allocates the claimed size" would show.
const MAX_BYTES = 8 << 20;
const MEMORY_BOUND = 64 << 20;
const TIME_BOUND_MS = 1000;
const SOURCE = "fuzz/t10k-slice";

let images: IdxArray;
let labels: IdxArray;
let imagesPlain: Uint8Array;
let labelsPlain: Uint8Array;
let imagesGzip: Uint8Array;
let labelsGzip: Uint8Array;

beforeAll(async () => {
  ({ images, labels } = await realTestSlice(100));
  imagesPlain = encodeIdx(images);
  labelsPlain = encodeIdx(labels);
  imagesGzip = gzipSync(imagesPlain);
  labelsGzip = gzipSync(labelsPlain);
});

type Corruption =
  | { kind: "truncate"; at: number }
  | { kind: "flip"; flips: { at: number; xor: number }[] }
  | { kind: "dimension"; axis: number; size: number }
  | { kind: "header byte"; at: number; value: number }
  | { kind: "append"; bytes: number[] }
  | { kind: "gzip trailer"; size: number };

const corruptions: fc.Arbitrary<Corruption> = fc.oneof(
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("flip" as const), flips: fc.array(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant("dimension" as const), axis: fc.integer({ min: 0, max: 3 }), size: fc.oneof(fc.nat(1000), fc.integer({ min: 0, max: 0xffffffff })) }),
  fc.record({ kind: fc.constant("header byte" as const), at: fc.integer({ min: 0, max: 15 }), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("append" as const), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant("gzip trailer" as const), size: fc.integer({ min: 0, max: 0xffffffff }) }),
);

function corrupt(original: Uint8Array, corruption: Corruption): Uint8Array {
  const bytes = original.slice();
  switch (corruption.kind) {
    case "truncate":
      return bytes.subarray(0, corruption.at % (bytes.length + 1));
    case "flip":
      for (const { at, xor } of corruption.flips) {
        const index = at % bytes.length;
        bytes[index] = bytes[index]! ^ xor;
      }
      return bytes;
    case "dimension":
      if (bytes.length >= 8 + 4 * corruption.axis) new DataView(bytes.buffer).setUint32(4 + 4 * corruption.axis, corruption.size, false);
      return bytes;
    case "header byte":
      bytes[corruption.at] = corruption.value;
      return bytes;
    case "append": {
      const longer = new Uint8Array(bytes.length + corruption.bytes.length);
      longer.set(bytes);
      longer.set(corruption.bytes, bytes.length);
      return longer;
    }
    case "gzip trailer":
      new DataView(bytes.buffer).setUint32(bytes.length - 4, corruption.size, true);
      return bytes;
  }
}

function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  // Buffer.compare instead of toEqual: deep equality over 78 KB arrays would dominate the run.
  expect(actual.length).toBe(expected.length);
  expect(Buffer.compare(actual, expected)).toBe(0);
}

/**
 * Runs a decoder under the fuzz contract: a consistent array, an IdxFormatError, or an
 * InputTooLargeError raised before the declared size was allocated; within time and memory bounds.
 */
function decodesOrRejects(decode: () => IdxArray): IdxArray | undefined {
  const memoryBefore = process.memoryUsage().arrayBuffers;
  const start = performance.now();
  let decoded: IdxArray | undefined;
  try {
    decoded = decode();
  } catch (error) {
    if (!(error instanceof IdxFormatError || error instanceof InputTooLargeError)) throw error;
    expect(error.message).toContain(SOURCE);
    expect(error.message).toContain(error.field);
  }
  expect(performance.now() - start).toBeLessThan(TIME_BOUND_MS);
  expect(process.memoryUsage().arrayBuffers - memoryBefore).toBeLessThan(MEMORY_BOUND);
  if (decoded !== undefined) {
    expect(decoded.data.length).toBe(decoded.shape.reduce((a, b) => a * b, 1));
  }
  return decoded;
}

describe("decoding corrupted real MNIST data (property-based)", () => {
  it("plain IDX: decodes to exactly the bytes given, or throws IdxFormatError", () => {
    fc.assert(
      fc.property(fc.boolean(), corruptions, (useLabels, corruption) => {
        const bytes = corrupt(useLabels ? labelsPlain : imagesPlain, corruption);
        const decoded = decodesOrRejects(() => decodeIdx(bytes, SOURCE, { maxBytes: MAX_BYTES }));
        if (decoded !== undefined) expectSameBytes(encodeIdx(decoded), bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it("gzip: both inflaters agree with zlib's reading or throw IdxFormatError", () => {
    fc.assert(
      fc.property(fc.boolean(), fc.boolean(), corruptions, (useLabels, corruptBeforeCompressing, corruption) => {
        const plain = useLabels ? labelsPlain : imagesPlain;
        const bytes = corruptBeforeCompressing ? gzipSync(corrupt(plain, corruption)) : corrupt(useLabels ? labelsGzip : imagesGzip, corruption);
        // zlib's reading is the reference; where zlib refuses a stream fflate still inflates, the
        // CRC-32 and length checks guarantee the original content came out.
        let reference: Uint8Array = plain;
        try {
          reference = zlibGunzip(bytes);
        } catch {
          expect(corruptBeforeCompressing).toBe(false);
        }
        for (const decoded of [
          decodesOrRejects(() => decodeIdx(bytes, SOURCE, { maxBytes: MAX_BYTES })),
          decodesOrRejects(() => decodeIdxPayload(gunzipWithZlib(bytes, SOURCE, { maxBytes: MAX_BYTES }), SOURCE, true, { maxBytes: MAX_BYTES })),
        ]) {
          if (decoded !== undefined) expectSameBytes(encodeIdx(decoded), reference);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("MNIST pairing: corrupted labels pair with images or throw IdxFormatError", () => {
    fc.assert(
      fc.property(corruptions, (corruption) => {
        const decodedLabels = decodesOrRejects(() => decodeIdx(corrupt(labelsPlain, corruption), SOURCE));
        if (decodedLabels === undefined) return;
        try {
          const split = mnistSplitFromIdx(images, decodedLabels, SOURCE, SOURCE);
          expect(split.count).toBe(100);
          expect(split.labels.every((label) => label <= 9)).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(IdxFormatError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
