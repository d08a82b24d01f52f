import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync as zlibGzip } from "node:zlib";
import fc from "fast-check";
import { gzipSync as fflateGzip } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IdxFormatError, InputTooLargeError } from "./errors.js";
import { decodeIdx, encodeIdx, type IdxArray, type IdxDataType } from "./idx.js";
import { DEFAULT_MAX_BYTES } from "./limits.js";
import { mnistSplitFromIdx } from "./mnist.js";
import { readIdxFile } from "./read-idx-file.js";
import { realTestSlice } from "./mnist-slice.test-support.js";
import { caught } from "./caught.test-support.js";

let dir: string;
let real: { images: IdxArray; labels: IdxArray };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mnist-data-idx-"));
  real = await realTestSlice(3);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

async function caughtAsync(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error, none was thrown");
}

function expectLimitError(error: unknown, path: string, field: string, declared: number, limit: number): void {
  expect(error).toBeInstanceOf(InputTooLargeError);
  const limitError = error as InputTooLargeError;
  expect([limitError.path, limitError.field, limitError.declared, limitError.limit]).toEqual([path, field, declared, limit]);
  expect(limitError.message).toContain(path);
  expect(limitError.message).toContain(String(declared));
  expect(limitError.message).toContain(String(limit));
  expect(limitError.message).not.toContain("\n");
}

function expectIdxError(error: unknown, path: string, fields: string[]): void {
  expect(error).toBeInstanceOf(IdxFormatError);
  const idxError = error as IdxFormatError;
  expect(idxError.path).toBe(path);
  expect(fields).toContain(idxError.field);
  expect(idxError.message).toContain(path);
  expect(idxError.message).toContain(idxError.field);
  expect(idxError.message).toContain(idxError.expected);
  expect(idxError.message).toContain(idxError.actual);
}

describe("encodeIdx", () => {
  // Hand-written bytes from the format description: big-endian header, sizes and values.
  it.each([
    ["uint8", new Uint8Array([7, 255]), [0x08, 0, 0, 0, 2, 7, 255]],
    ["int8", new Int8Array([-1, 2]), [0x09, 0, 0, 0, 2, 0xff, 2]],
    ["int16", new Int16Array([1, -2]), [0x0b, 0, 0, 0, 2, 0, 1, 0xff, 0xfe]],
    ["int32", new Int32Array([0x01020304, -1]), [0x0c, 0, 0, 0, 2, 1, 2, 3, 4, 0xff, 0xff, 0xff, 0xff]],
    ["float32", new Float32Array([1.5, -2]), [0x0d, 0, 0, 0, 2, 0x3f, 0xc0, 0, 0, 0xc0, 0, 0, 0]],
    ["float64", new Float64Array([-2, 0.5]), [0x0e, 0, 0, 0, 2, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0]],
  ] as const)("writes %s values big-endian after a rank-1 header", (dtype, data, tail) => {
    const [code, ...rest] = tail;
    const expected = bytes(0, 0, code, 1, ...rest);
    expect(encodeIdx({ dtype, shape: [2], data })).toEqual(expected);
    expect(decodeIdx(expected)).toEqual({ dtype, shape: [2], data });
  });

  it("writes every dimension of a rank-3 array", () => {
    const encoded = encodeIdx({ dtype: "uint8", shape: [1, 2, 3], data: new Uint8Array(6) });
    expect(Array.from(encoded.subarray(0, 16))).toEqual([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]);
  });

  it("rejects data that does not fill the shape", () => {
    const error = caught(() => encodeIdx({ dtype: "int16", shape: [3], data: new Int16Array(2) }));
    expect(error).toBeInstanceOf(IdxFormatError);
    expect((error as IdxFormatError).field).toBe("data length");
  });

  it("rejects data of another type than dtype", () => {
    const error = caught(() => encodeIdx({ dtype: "int16", shape: [2], data: new Int32Array(2) }));
    expect((error as IdxFormatError).field).toBe("data");
  });
});

const VALUES: Record<IdxDataType, { values: fc.Arbitrary<number>; create: (values: number[]) => IdxArray["data"] }> = {
  uint8: { values: fc.integer({ min: 0, max: 255 }), create: (v) => Uint8Array.from(v) },
  int8: { values: fc.integer({ min: -128, max: 127 }), create: (v) => Int8Array.from(v) },
  int16: { values: fc.integer({ min: -32768, max: 32767 }), create: (v) => Int16Array.from(v) },
  int32: { values: fc.integer(), create: (v) => Int32Array.from(v) },
  float32: { values: fc.float(), create: (v) => Float32Array.from(v) },
  float64: { values: fc.double(), create: (v) => Float64Array.from(v) },
};

function idxArrays(dtype: IdxDataType): fc.Arbitrary<IdxArray> {
  const { values, create } = VALUES[dtype];
  return fc
    .array(fc.integer({ min: 0, max: 4 }), { maxLength: 5 })
    .chain((shape) => {
      const count = shape.reduce((a, b) => a * b, 1);
      return fc.array(values, { minLength: count, maxLength: count }).map((v) => ({ dtype, shape, data: create(v) }));
    });
}

function expectSameArray(actual: IdxArray, expected: IdxArray): void {
  expect(actual.dtype).toBe(expected.dtype);
  expect(actual.shape).toEqual(expected.shape);
  expect(actual.data.constructor).toBe(expected.data.constructor);
  expect(actual.data.length).toBe(expected.data.length);
  // Object.is keeps -0 and NaN apart from 0 and from each other's failures.
  expect(Array.from(actual.data).every((value, i) => Object.is(value, expected.data[i]))).toBe(true);
}

describe("round trip", () => {
  it.each(Object.keys(VALUES) as IdxDataType[])("%s of any rank: plain, gzip (fflate and zlib) from bytes", (dtype) => {
    fc.assert(
      fc.property(idxArrays(dtype), (array) => {
        const plain = encodeIdx(array);
        expectSameArray(decodeIdx(plain), array);
        expectSameArray(decodeIdx(fflateGzip(plain)), array);
        expectSameArray(decodeIdx(zlibGzip(plain)), array);
      }),
      { numRuns: 60 },
    );
  });

  it.each(Object.keys(VALUES) as IdxDataType[])("%s from a file path, plain and gzip", async (dtype) => {
    const samples = fc.sample(idxArrays(dtype), { numRuns: 5, seed: 7 });
    for (const [i, array] of samples.entries()) {
      const plain = join(dir, `${dtype}-${i}.idx`);
      const gz = join(dir, `${dtype}-${i}.idx.gz`);
      await writeFile(plain, encodeIdx(array));
      await writeFile(gz, zlibGzip(encodeIdx(array)));
      expectSameArray(await readIdxFile(plain), array);
      expectSameArray(await readIdxFile(gz), array);
    }
  });

  it("recognises gzip by its magic, whatever the file name", async () => {
    const path = join(dir, "images-without-suffix");
    await writeFile(path, fflateGzip(encodeIdx(real.images)));
    expectSameArray(await readIdxFile(path), real.images);
  });

  it("returns data that does not share memory with the input bytes", () => {
    const plain = encodeIdx(real.images);
    const decoded = decodeIdx(plain);
    plain.fill(0, 16);
    expect(decoded.data).toEqual(real.images.data);
  });
});

describe("bad input", () => {
  const source = "fixture.idx";
  const imagesBytes = () => encodeIdx(real.images);

  const plainCases: [string, () => Uint8Array, string][] = [
    ["an empty file", () => bytes(), "magic"],
    ["a file shorter than the magic", () => bytes(0, 0), "magic"],
    ["a wrong magic", () => bytes(1, 0, 8, 1, 0, 0, 0, 0), "magic"],
    ["a text file", () => new TextEncoder().encode("label,pixel0\n"), "magic"],
    ["an unknown type code", () => bytes(0, 0, 0x0a, 1, 0, 0, 0, 0), "type code"],
    ["a header shorter than its rank", () => bytes(0, 0, 8, 3, 0, 0, 0, 1), "dimensions"],
    ["a truncated payload", () => imagesBytes().subarray(0, -1), "payload size"],
    ["trailing bytes", () => Uint8Array.from([...imagesBytes(), 0]), "payload size"],
    ["dimensions of 2^32-1 each", () => bytes(0, 0, 8, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 1), "payload size"],
    ["a zero dimension with a payload", () => bytes(0, 0, 8, 2, 0, 0, 0, 0, 0, 0, 0, 5, 1), "payload size"],
  ];

  it.each(plainCases)("rejects %s from bytes and from a file", async (_, make, field) => {
    expectIdxError(caught(() => decodeIdx(make(), source)), source, [field]);
    const path = join(dir, "bad.idx");
    await writeFile(path, make());
    expectIdxError(await caughtAsync(() => readIdxFile(path)), path, [field]);
  });

  it("does not allocate the size a header claims before checking it against the file", () => {
    // 1 GiB claimed by a 12-byte file: an allocation would show in arrayBuffers until collected.
    const claim = bytes(0, 0, 8, 2, 0, 0, 0x40, 0, 0, 0, 0x40, 0);
    const before = process.memoryUsage().arrayBuffers;
    expectIdxError(caught(() => decodeIdx(claim, source)), source, ["payload size"]);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 << 20);
  });

  const gzipSource = "fixture.idx.gz";
  const gzipped = () => fflateGzip(imagesBytes());
  const gzipCases: [string, () => Uint8Array, string[], string[]][] = [
    ["a truncated gzip stream", () => gzipped().subarray(0, 200), ["gzip stream", "gzip trailer"], ["gzip stream", "gzip trailer"]],
    ["a gzip header without its trailer", () => gzipped().subarray(0, 12), ["gzip stream"], ["gzip stream"]],
    [
      "flipped bytes in the deflate data",
      () => {
        const gz = gzipped();
        for (let i = 100; i < 110; i++) gz[i] = gz[i]! ^ 0x5a;
        return gz;
      },
      ["gzip stream", "gzip checksum"],
      ["gzip stream"],
    ],
    [
      "a wrong CRC in the trailer",
      () => {
        const gz = gzipped();
        gz[gz.length - 8] = gz[gz.length - 8]! ^ 1;
        return gz;
      },
      ["gzip checksum"],
      ["gzip stream"],
    ],
    [
      "a trailer claiming 4 GiB",
      () => {
        const gz = gzipped();
        gz.fill(0xff, gz.length - 4);
        return gz;
      },
      ["gzip trailer"],
      ["gzip trailer"],
    ],
    [
      "a trailer claiming more than deflate can produce from the file",
      () => {
        const gz = gzipped();
        new DataView(gz.buffer).setUint32(gz.length - 4, 500 << 20, true);
        return gz;
      },
      ["gzip trailer"],
      ["gzip trailer"],
    ],
    ["gzip holding a non-IDX file", () => fflateGzip(new TextEncoder().encode("not idx at all")), ["magic"], ["magic"]],
  ];

  it.each(gzipCases)("rejects %s from bytes (fflate) and from a file (zlib)", async (_, make, bytesFields, fileFields) => {
    expectIdxError(caught(() => decodeIdx(make(), gzipSource)), gzipSource, bytesFields);
    const path = join(dir, "bad.idx.gz");
    await writeFile(path, make());
    expectIdxError(await caughtAsync(() => readIdxFile(path)), path, fileFields);
  });

  it("refuses a gzip bomb by its trailer on both paths, before inflating, naming file, size and limit", async () => {
    // 80 MB of zeros squeezes into about 80 KB: a small file that would inflate 1000-fold,
    // past the default limit of 64 MB.
    const bomb = zlibGzip(new Uint8Array(80_000_000));
    expect(bomb.length).toBeLessThan(100_000);
    expectLimitError(caught(() => decodeIdx(bomb, gzipSource)), gzipSource, "gzip trailer", 80_000_000, DEFAULT_MAX_BYTES);
    const path = join(dir, "bomb.idx.gz");
    await writeFile(path, bomb);
    const error = await caughtAsync(() => readIdxFile(path, { maxBytes: 1_000_000 }));
    expectLimitError(error, path, "gzip trailer", 80_000_000, 1_000_000);
    expect((error as Error).message).toContain("--max-input-mb 80");
  });

  it("stops a gzip bomb whose trailer lies at the declared length on both paths", async () => {
    const bomb = zlibGzip(new Uint8Array(8_000_000));
    new DataView(bomb.buffer, bomb.byteOffset).setUint32(bomb.length - 4, 1000, true);
    expectIdxError(caught(() => decodeIdx(bomb, gzipSource)), gzipSource, ["gzip stream"]);
    const path = join(dir, "lying-bomb.idx.gz");
    await writeFile(path, bomb);
    const before = process.memoryUsage().arrayBuffers;
    const error = await caughtAsync(() => readIdxFile(path));
    expectIdxError(error, path, ["gzip stream"]);
    expect((error as IdxFormatError).actual).toBe("more than 1000 bytes");
    // zlib stopped at 1001 bytes instead of inflating the 8 MB.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(4_000_000);
  });

  it("refuses a plain file larger than the limit before reading it", async () => {
    const path = join(dir, "large.idx");
    const large = encodeIdx({ dtype: "uint8", shape: [2000], data: new Uint8Array(2000) });
    await writeFile(path, large);
    expectLimitError(await caughtAsync(() => readIdxFile(path, { maxBytes: 1000 })), path, "file size", 2008, 1000);
    expectLimitError(caught(() => decodeIdx(large, "large.idx", { maxBytes: 1000 })), "large.idx", "IDX header", 2000, 1000);
  });

  it("rejects image and label files whose counts differ", () => {
    const labels: IdxArray = { dtype: "uint8", shape: [2], data: real.labels.data.slice(0, 2) };
    expectIdxError(caught(() => mnistSplitFromIdx(real.images, labels, "images.idx", "labels.idx")), "labels.idx", ["count"]);
  });

  it("rejects labels outside 0..9", () => {
    const labels: IdxArray = { dtype: "uint8", shape: [3], data: Uint8Array.of(1, 10, 2) };
    const error = caught(() => mnistSplitFromIdx(real.images, labels, "images.idx", "labels.idx"));
    expectIdxError(error, "labels.idx", ["label"]);
    expect((error as IdxFormatError).actual).toContain("10 at index 1");
  });

  it("rejects an images file that is not [count, rows, cols] bytes", () => {
    const flat: IdxArray = { dtype: "uint8", shape: [real.images.data.length], data: real.images.data };
    expectIdxError(caught(() => mnistSplitFromIdx(flat, real.labels, "images.idx", "labels.idx")), "images.idx", ["images layout"]);
  });
});
