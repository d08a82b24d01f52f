import { permutePixels, pixelPermutation, SEQUENCE_ORDERS, toSequences, type MnistSplit, type SequenceOrder } from "@mnist/data";

/**
 * How the CLI turned images into sequences for a model. It is stored in the model's metadata
 * (model.json), so evaluate, predict and a resumed run read images the way the model was trained.
 */
export interface SequenceInput {
  /** rows: 28 steps of 28 pixels; pixels: 784 steps of 1. */
  sequence: SequenceOrder;
  /** Seed of the fixed pixel permutation, if the model was trained on permuted images. */
  permute?: number;
}

/** The model metadata that records `input`. */
export function sequenceMetadata(input: SequenceInput): Record<string, unknown> {
  return input.permute === undefined ? { sequence: input.sequence } : { sequence: input.sequence, permute: input.permute };
}

/**
 * The SequenceInput recorded in a model's metadata; models saved without one were trained on
 * rows. `source` names the model.json in the error for metadata that is not ours.
 */
export function sequenceInputOf(metadata: Readonly<Record<string, unknown>>, source: string): SequenceInput {
  const { sequence = "rows", permute } = metadata;
  if (!SEQUENCE_ORDERS.includes(sequence as SequenceOrder)) {
    throw new Error(`${source}: userDefinedMetadata.sequence must be one of ${SEQUENCE_ORDERS.join(", ")}, found ${JSON.stringify(sequence)}`);
  }
  if (permute !== undefined && !Number.isSafeInteger(permute)) {
    throw new Error(`${source}: userDefinedMetadata.permute must be an integer seed, found ${JSON.stringify(permute)}`);
  }
  return permute === undefined ? { sequence: sequence as SequenceOrder } : { sequence: sequence as SequenceOrder, permute: permute as number };
}

/** A split's images as the model's sequences. */
export function sequenceSplit(split: MnistSplit, input: SequenceInput): MnistSplit {
  return toSequences(split, { order: input.sequence, permute: input.permute });
}

/** The model's steps and inputs per step for images of rows x cols. */
export function sequenceShape(input: SequenceInput, rows: number, cols: number): { steps: number; inputSize: number } {
  return input.sequence === "rows" ? { steps: rows, inputSize: cols } : { steps: rows * cols, inputSize: 1 };
}

/** Images given as pixel values ([count, pixels] row-major), permuted like the model's training images. */
export function permutedPixels(pixels: Float32Array, count: number, input: SequenceInput): Float32Array {
  if (input.permute === undefined) return pixels;
  return permutePixels(pixels, pixelPermutation(pixels.length / count, input.permute));
}
