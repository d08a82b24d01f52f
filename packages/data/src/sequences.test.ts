import { beforeAll, describe, expect, it } from "vitest";
import { Batcher } from "./batches.js";
import { mnistSplitFromIdx, type MnistSplit } from "./mnist.js";
import { realTestSlice } from "./mnist-slice.test-support.js";
import { SequenceInputError } from "./errors.js";
import {
  modelSequenceInput,
  permutePixels,
  pixelPermutation,
  ROWS_INPUT,
  sequenceInputMetadata,
  sequenceInputOf,
  sequencePixels,
  sequenceShape,
  toSequences,
  type SequenceInput,
} from "./sequences.js";

let digits: MnistSplit;

beforeAll(async () => {
  const { images, labels } = await realTestSlice(50);
  digits = mnistSplitFromIdx(images, labels);
});

describe("pixelPermutation", () => {
  it("is a permutation of 0..size-1 fixed by its seed", () => {
    const permutation = pixelPermutation(784, 7);
    expect([...permutation].sort((a, b) => a - b)).toEqual(Array.from({ length: 784 }, (_, k) => k));
    expect(pixelPermutation(784, 7)).toEqual(permutation);
    const other = pixelPermutation(784, 8);
    expect(other).not.toEqual(permutation);
    // A real shuffle moves almost everything: a fixed-point count near 1 is expected, not hundreds.
    expect(permutation.filter((value, k) => value === k).length).toBeLessThan(10);
  });

  it("rejects sizes and seeds it cannot use", () => {
    expect(() => pixelPermutation(0, 1)).toThrow(/size must be a positive integer, got 0/);
    expect(() => pixelPermutation(784, 1.5)).toThrow(/seed must be an integer, got 1.5/);
  });
});

describe("permutePixels", () => {
  it("reorders float pixels the way toSequences reorders bytes", () => {
    const permutation = pixelPermutation(784, 5);
    const bytes = digits.images.subarray(0, 3 * 784);
    const floats = permutePixels(Float32Array.from(bytes, (v) => v / 255), permutation);
    expect(floats).toBeInstanceOf(Float32Array);
    const expected = toSequences({ ...digits, images: bytes, labels: digits.labels.subarray(0, 3), count: 3 }, { order: "rows", permute: 5 }).images;
    expect(floats).toEqual(Float32Array.from(expected, (v) => v / 255));
  });

  it("refuses values that are not whole images", () => {
    expect(() => permutePixels(new Float32Array(785), pixelPermutation(784, 1))).toThrow(/785 values are not whole images of 784 pixels/);
  });
});

describe("toSequences", () => {
  it("leaves the tutorial's rows as they are", () => {
    const rows = toSequences(digits);
    expect(rows).toMatchObject({ rows: 28, cols: 28, count: 50 });
    expect(rows.images).toBe(digits.images);
  });

  it("reads pixels as 784 one-input steps without copying, and batches them in that shape", () => {
    const pixels = toSequences(digits, { order: "pixels" });
    expect(pixels).toMatchObject({ rows: 784, cols: 1, count: 50 });
    expect(pixels.images).toBe(digits.images);
    const asRows = new Batcher(digits, { seed: 3 }).nextBatch(8);
    const asPixels = new Batcher(pixels, { seed: 3 }).nextBatch(8);
    expect(asPixels.images).toEqual(asRows.images);
    expect(asPixels.labels).toEqual(asRows.labels);
  });

  it("permutes every image's pixels the same way, keeping its labels and ink", () => {
    const permutation = pixelPermutation(784, 11);
    const permuted = toSequences(digits, { order: "pixels", permute: 11 });
    expect(permuted).toMatchObject({ rows: 784, cols: 1, count: 50 });
    expect(permuted.labels).toBe(digits.labels);
    for (const image of [0, 17, 49]) {
      const original = digits.images.subarray(image * 784, (image + 1) * 784);
      const shuffled = permuted.images.subarray(image * 784, (image + 1) * 784);
      expect(shuffled).not.toEqual(original);
      const restored = new Uint8Array(784);
      permutation.forEach((from, k) => (restored[from] = shuffled[k]!));
      expect(restored).toEqual(original);
    }
    expect(digits.images.subarray(0, 784)).toEqual(toSequences(digits).images.subarray(0, 784));
  });

  it("can permute and still read rows", () => {
    const permuted = toSequences(digits, { order: "rows", permute: 11 });
    expect(permuted).toMatchObject({ rows: 28, cols: 28 });
    expect(permuted.images).toEqual(toSequences(digits, { order: "pixels", permute: 11 }).images);
  });

  it("names a sequence order it does not know", () => {
    expect(() => toSequences(digits, { order: "columns" as never })).toThrow(SequenceInputError);
    expect(() => toSequences(digits, { order: "columns" as never })).toThrow(/input\.order: expected "rows" or "pixels", found "columns"/);
  });
});

describe("sequence input in a model's metadata", () => {
  it("round-trips through the metadata and reads images as the model was trained", () => {
    for (const input of [{ order: "rows" }, { order: "pixels" }, { order: "pixels", permute: 7 }, { order: "rows", permute: 3 }] as SequenceInput[]) {
      const metadata = JSON.parse(JSON.stringify({ note: "kept", ...sequenceInputMetadata(input) }));
      const read = sequenceInputOf(metadata, "m/model.json");
      expect(read).toEqual(input);
      expect(toSequences(digits, read).images).toEqual(toSequences(digits, input).images);
    }
  });

  it("reads rows when the metadata records no input", () => {
    expect(sequenceInputOf({})).toEqual(ROWS_INPUT);
    expect(sequenceShape(ROWS_INPUT, 28, 28)).toEqual({ steps: 28, inputSize: 28 });
    expect(sequenceShape({ order: "pixels" }, 28, 28)).toEqual({ steps: 784, inputSize: 1 });
  });

  it("names the file and the field of a recorded input no image can be read as", () => {
    const cases: [unknown, RegExp][] = [
      ["rows", /m\/model\.json: userDefinedMetadata\.sequenceInput: expected an object \{ order, permute\? \}, found "rows"/],
      [{ order: "columns" }, /userDefinedMetadata\.sequenceInput\.order: expected "rows" or "pixels", found "columns"/],
      [{ order: "pixels", permute: 1.5 }, /userDefinedMetadata\.sequenceInput\.permute: expected an integer seed \(or no field\), found 1\.5/],
      [{ order: "rows", flip: true }, /userDefinedMetadata\.sequenceInput\.flip: expected only the fields order and permute/],
      [{ order: "\u001b[31mred" }, /found "\\u001b\[31mred"/],
    ];
    for (const [recorded, message] of cases) {
      expect(() => sequenceInputOf({ sequenceInput: recorded }, "m/model.json")).toThrow(message);
    }
  });

  it("checks that a model's shape fits how its metadata says it reads images", () => {
    const pixelsModel = { metadata: sequenceInputMetadata({ order: "pixels", permute: 2 }), config: { steps: 784, inputSize: 1 } };
    expect(modelSequenceInput(pixelsModel, digits, "p/model.json")).toEqual({ order: "pixels", permute: 2 });
    expect(modelSequenceInput({ metadata: {}, config: { steps: 28, inputSize: 28 } }, digits)).toEqual(ROWS_INPUT);
    expect(() => modelSequenceInput({ metadata: {}, config: { steps: 784, inputSize: 1 } }, digits, "q/model.json")).toThrow(
      "q/model.json: config.steps x config.inputSize: expected 28 x 28 (28x28 images read as rows, as its metadata says), found 784 x 1",
    );
  });

  it("permutes loose pixels as toSequences permutes a split's", () => {
    const floats = Float32Array.from(digits.images.subarray(0, 2 * 784), (v) => v / 255);
    expect(sequencePixels(floats, 2, ROWS_INPUT)).toBe(floats);
    const permuted = sequencePixels(floats, 2, { order: "pixels", permute: 9 });
    const expected = toSequences({ ...digits, count: 2, images: digits.images.subarray(0, 2 * 784) }, { order: "pixels", permute: 9 }).images;
    expect(permuted).toEqual(Float32Array.from(expected, (v) => v / 255));
  });
});
