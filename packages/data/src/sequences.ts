import type { MnistSplit } from "./mnist.js";
import { SequenceInputError } from "./errors.js";
import { Random } from "./random.js";

/**
 * How an image is read as a sequence: "rows" is the tutorial's (28 steps of a 28-pixel row),
 * "pixels" is "sequential MNIST" (784 steps of one pixel, row after row).
 */
export type SequenceOrder = "rows" | "pixels";

export const SEQUENCE_ORDERS: readonly SequenceOrder[] = ["rows", "pixels"];

/**
 * How a model reads images as sequences. It is part of the model: saved in its metadata
 * (`sequenceInputMetadata`) and read back with `sequenceInputOf`, so every app feeds a model
 * images the way it was trained.
 */
export interface SequenceInput {
  /** Steps of a row or of a pixel. */
  order: SequenceOrder;
  /**
   * Seed of a fixed random reordering of each image's pixels, applied before the image is cut
   * into steps ("permuted MNIST" with order "pixels"); absent: pixels in reading order.
   */
  permute?: number;
}

/** The tutorial's reading: 28 steps of a 28-pixel row, pixels in place. */
export const ROWS_INPUT: Readonly<SequenceInput> = Object.freeze({ order: "rows" });

/** The key of a model's metadata that holds its SequenceInput. */
const METADATA_KEY = "sequenceInput";

/**
 * A seeded random permutation of 0..size-1: element k of a permuted image is pixel
 * permutation[k] of the original. One seed always gives the same permutation, so a model
 * trained on permuted images can be evaluated on images permuted the same way later.
 */
export function pixelPermutation(size: number, seed: number): Uint32Array {
  if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`permutation size must be a positive integer, got ${size}`);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`permutation seed must be an integer, got ${seed}`);
  const permutation = Uint32Array.from({ length: size }, (_, k) => k);
  new Random(seed).shuffle(permutation);
  return permutation;
}

/**
 * The split read as sequences: "pixels" reshapes each image to rows*cols steps of 1 input (no
 * copy); `permute` reorders each image's pixels (a copy of the images). Labels are shared.
 */
export function toSequences(split: MnistSplit, input: SequenceInput = ROWS_INPUT): MnistSplit {
  checkSequenceInput(input, "input");
  const images = sequencePixels(split.images, split.count, input);
  return input.order === "rows"
    ? { ...split, images }
    : { images, labels: split.labels, count: split.count, rows: split.rows * split.cols, cols: 1 };
}

/**
 * `count` images given as pixel values (row-major), reordered as `input` reads them: the same
 * array when nothing moves, a permuted copy otherwise. For pixels decoded outside a split
 * (a PNG, a drawn digit) on their way to a model.
 */
export function sequencePixels<T extends Uint8Array | Float32Array>(pixels: T, count: number, input: SequenceInput): T {
  if (input.permute === undefined || count === 0) return pixels;
  return permutePixels(pixels, pixelPermutation(pixels.length / count, input.permute));
}

/** Steps and inputs per step of a model that reads images of rows x cols as `input` says. */
export function sequenceShape(input: SequenceInput, rows: number, cols: number): { steps: number; inputSize: number } {
  return input.order === "rows" ? { steps: rows, inputSize: cols } : { steps: rows * cols, inputSize: 1 };
}

/** Model metadata that records `input` (merge it into the metadata a model is created with). */
export function sequenceInputMetadata(input: SequenceInput): { sequenceInput: SequenceInput } {
  checkSequenceInput(input, "input");
  return { [METADATA_KEY]: input.permute === undefined ? { order: input.order } : { order: input.order, permute: input.permute } };
}

/**
 * The SequenceInput recorded in a model's metadata, checked; a model whose metadata records
 * none reads rows (ROWS_INPUT), as SequenceClassifier.create's defaults do. `source` (e.g. the
 * model.json path) starts the message of a SequenceInputError.
 */
export function sequenceInputOf(metadata: Readonly<Record<string, unknown>>, source = "model metadata"): SequenceInput {
  const recorded = metadata[METADATA_KEY];
  if (recorded === undefined) return { ...ROWS_INPUT };
  const field = `userDefinedMetadata.${METADATA_KEY}`;
  if (typeof recorded !== "object" || recorded === null || Array.isArray(recorded)) {
    throw new SequenceInputError(source, field, "an object { order, permute? }", describe(recorded));
  }
  const { order, permute, ...rest } = recorded as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw new SequenceInputError(source, `${field}.${extra[0]}`, "only the fields order and permute", describe(extra[0]));
  const input = permute === undefined ? { order } : { order, permute };
  checkSequenceInput(input, field, source);
  return input as SequenceInput;
}

/**
 * How `model` reads images of rows x cols: the SequenceInput its metadata records, checked to fit
 * its steps and inputs per step. What every app calls before feeding a loaded model images.
 */
export function modelSequenceInput(
  model: { readonly metadata: Readonly<Record<string, unknown>>; readonly config: { readonly steps: number; readonly inputSize: number } },
  images: { readonly rows: number; readonly cols: number },
  source = "model metadata",
): SequenceInput {
  const input = sequenceInputOf(model.metadata, source);
  const { steps, inputSize } = sequenceShape(input, images.rows, images.cols);
  if (steps !== model.config.steps || inputSize !== model.config.inputSize) {
    throw new SequenceInputError(
      source,
      "config.steps x config.inputSize",
      `${steps} x ${inputSize} (${images.rows}x${images.cols} images read as ${input.order}, as its metadata says)`,
      `${model.config.steps} x ${model.config.inputSize}`,
    );
  }
  return input;
}

/**
 * What a tool without this package must feed a model that reads images as `input` (for example
 * the model exported for tf.loadLayersModel or Keras, which cannot reorder pixels itself): in
 * words, and for permuted input the pixel order, where value k of a sequence is pixel
 * pixelOrder[k] of the row-major image.
 */
export function describeSequenceInput(input: SequenceInput, model: { readonly steps: number; readonly inputSize: number }): { description: string; pixelOrder?: number[] } {
  const { steps, inputSize } = model;
  const scaled = "pixel values / 255 (0 = background)";
  const order =
    input.order === "rows"
      ? `${steps} steps of ${inputSize} pixels, step r = image row r, ${scaled}`
      : `${steps} steps of 1 pixel, the image's pixels in row-major order, ${scaled}`;
  if (input.permute === undefined) return { description: order };
  return {
    description: `${order}, after reordering the ${steps * inputSize} pixels by the permutation with seed ${input.permute}: value k of the sequence is pixel pixelOrder[k] of the row-major image`,
    pixelOrder: Array.from(pixelPermutation(steps * inputSize, input.permute)),
  };
}

function checkSequenceInput(input: Record<string, unknown> | SequenceInput, field: string, source = "SequenceInput"): void {
  const { order, permute } = input as Record<string, unknown>;
  if (!SEQUENCE_ORDERS.includes(order as SequenceOrder)) {
    throw new SequenceInputError(source, `${field}.order`, SEQUENCE_ORDERS.map((o) => JSON.stringify(o)).join(" or "), describe(order));
  }
  if (permute !== undefined && !Number.isSafeInteger(permute)) {
    throw new SequenceInputError(source, `${field}.permute`, "an integer seed (or no field)", describe(permute));
  }
}

/** A value from a file, shown short and with control characters escaped (JSON does both). */
function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Images (row-major, each permutation.length values) with every image's values reordered:
 * value k of an output image is value permutation[k] of the input image. For pixels decoded
 * elsewhere (e.g. a drawn digit) that must reach a model trained on permuted images.
 */
export function permutePixels<T extends Uint8Array | Float32Array>(images: T, permutation: Uint32Array): T {
  const size = permutation.length;
  if (images.length % size !== 0) {
    throw new RangeError(`permutePixels: ${images.length} values are not whole images of ${size} pixels`);
  }
  const permuted = new (images.constructor as new (length: number) => T)(images.length);
  for (let start = 0; start < images.length; start += size) {
    for (let k = 0; k < size; k++) permuted[start + k] = images[start + permutation[k]!]!;
  }
  return permuted;
}
