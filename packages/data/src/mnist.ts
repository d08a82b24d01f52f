import { IdxFormatError } from "./errors.js";
import type { IdxArray } from "./idx.js";

/** One part of MNIST: `images` row-major [count, rows, cols] with pixels 0..255, `labels` [count] with digits 0..9. */
export interface MnistSplit {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  rows: number;
  cols: number;
}

export interface Mnist {
  train: MnistSplit;
  test: MnistSplit;
}

/** The standard MNIST file names (each may also be stored with a .gz suffix). */
export const MNIST_FILES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
} as const;

export type MnistFileName = (typeof MNIST_FILES)[keyof typeof MNIST_FILES];

export const MNIST_CLASSES = 10;

/** Pairs a decoded images file ([count, rows, cols] uint8) with its labels file ([count] uint8, 0..9). */
export function mnistSplitFromIdx(images: IdxArray, labels: IdxArray, imagesSource = "<images>", labelsSource = "<labels>"): MnistSplit {
  if (images.dtype !== "uint8" || images.shape.length !== 3) {
    throw new IdxFormatError(
      imagesSource,
      "images layout",
      "uint8 values of rank 3 [count, rows, cols]",
      `${images.dtype} values of shape [${images.shape.join(", ")}]`,
      "is this an MNIST images file (…-images-idx3-ubyte)?",
    );
  }
  if (labels.dtype !== "uint8" || labels.shape.length !== 1) {
    throw new IdxFormatError(
      labelsSource,
      "labels layout",
      "uint8 values of rank 1 [count]",
      `${labels.dtype} values of shape [${labels.shape.join(", ")}]`,
      "is this an MNIST labels file (…-labels-idx1-ubyte)?",
    );
  }
  const [count = 0, rows = 0, cols = 0] = images.shape;
  const labelCount = labels.shape[0] ?? 0;
  if (labelCount !== count) {
    throw new IdxFormatError(
      labelsSource,
      "count",
      `${count} labels, one per image in ${imagesSource}`,
      `${labelCount} labels`,
      "the images and labels files come from different sets (train vs t10k?)",
    );
  }
  const labelData = labels.data as Uint8Array;
  const bad = labelData.findIndex((label) => label >= MNIST_CLASSES);
  if (bad !== -1) {
    throw new IdxFormatError(
      labelsSource,
      "label",
      `digits 0..${MNIST_CLASSES - 1}`,
      `${labelData[bad]} at index ${bad}`,
    );
  }
  return { images: images.data as Uint8Array, labels: labelData, count, rows, cols };
}
