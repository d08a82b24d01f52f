import type { MnistSplit } from "./mnist.js";
import { Random } from "./random.js";

/**
 * How an image is read as a sequence: "rows" is the tutorial's (28 steps of a 28-pixel row),
 * "pixels" is "sequential MNIST" (784 steps of one pixel, row after row).
 */
export type SequenceOrder = "rows" | "pixels";

export const SEQUENCE_ORDERS: readonly SequenceOrder[] = ["rows", "pixels"];

/** How images become sequences; the defaults leave a split as it is. */
export interface SequenceOptions {
  /** Steps of a row or of a pixel; default "rows". */
  order?: SequenceOrder;
  /**
   * Seed of a fixed random reordering of each image's pixels, applied before the image is cut
   * into steps ("permuted MNIST" with order "pixels"); default: pixels in reading order.
   */
  permute?: number;
}

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
export function toSequences(split: MnistSplit, options: SequenceOptions = {}): MnistSplit {
  const order = options.order ?? "rows";
  if (!SEQUENCE_ORDERS.includes(order)) {
    throw new RangeError(`sequence order must be one of ${SEQUENCE_ORDERS.join(", ")}, got ${JSON.stringify(order)}`);
  }
  const pixels = split.rows * split.cols;
  const images = options.permute === undefined ? split.images : permutePixels(split.images, pixelPermutation(pixels, options.permute));
  return order === "rows"
    ? { ...split, images }
    : { images, labels: split.labels, count: split.count, rows: pixels, cols: 1 };
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
