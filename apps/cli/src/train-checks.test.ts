import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { SequenceClassifier } from "@mnist/rnn";
import { encodeIdx, MNIST_FILES } from "@mnist/data";
import { availableParallelism } from "node:os";
import { listFiles, runCli, tempDir, writeSmallMnist } from "./cli.test-support.js";

let tmp: { path: string; remove: () => Promise<void> };
let smallData: string;
let smallTest: string;
let fewImages: string;
let damaged: string;

/** An MNIST folder of blank images: `trainCount` training images of trainSize², `testCount` test images of testSize². */
async function writeBlankMnist(dir: string, train: { count: number; size: number }, test: { count: number; size: number }): Promise<string> {
  await mkdir(dir, { recursive: true });
  const parts: [string, string, { count: number; size: number }][] = [
    [MNIST_FILES.trainImages, MNIST_FILES.trainLabels, train],
    [MNIST_FILES.testImages, MNIST_FILES.testLabels, test],
  ];
  for (const [images, labels, { count, size }] of parts) {
    await writeFile(join(dir, images), encodeIdx({ dtype: "uint8", shape: [count, size, size], data: new Uint8Array(count * size * size) }));
    await writeFile(join(dir, labels), encodeIdx({ dtype: "uint8", shape: [count], data: Uint8Array.from({ length: count }, (_, i) => i % 10) }));
  }
  return dir;
}

beforeAll(async () => {
  tmp = await tempDir("checks");
  smallData = await writeSmallMnist(tmp.path, 1280, 100);
  smallTest = await writeBlankMnist(join(tmp.path, "small-test"), { count: 5100, size: 28 }, { count: 20, size: 10 });
  fewImages = await writeBlankMnist(join(tmp.path, "few"), { count: 100, size: 28 }, { count: 20, size: 28 });
  // Files that would fail to decode: a flag error reported instead proves the flags are checked before the data is read.
  damaged = join(tmp.path, "damaged");
  await mkdir(damaged);
  for (const name of Object.values(MNIST_FILES)) await writeFile(join(damaged, name), "not an IDX file");
});
afterAll(() => tmp.remove());

const tiny = ["--iters", "640", "--batch-size", "64", "--hidden", "16", "--backend", "cpu"];

/** Runs train with --logdir and --save inside a fresh sandbox and checks the refusal: exit 2, one line, nothing written. */
async function refused(args: string[]): Promise<string> {
  const sandbox = await tempDir("refused");
  try {
    const create = vi.spyOn(SequenceClassifier, "create");
    const argv = ["train", ...args.map((a) => a.replace("<data>", smallData)), "--logdir", join(sandbox.path, "logs"), "--save", join(sandbox.path, "model")];
    const result = await runCli(argv);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stdout).not.toMatch(/Iteration|TensorBoard run/);
    expect(await listFiles(sandbox.path)).toEqual([]);
    // Nothing was built.
    expect(create).not.toHaveBeenCalled();
    return result.stderr;
  } finally {
    vi.restoreAllMocks();
    await sandbox.remove();
  }
}

describe("train checks the whole configuration against the data before building or writing anything", () => {
  it("names the test file whose images are another size than the training images", async () => {
    const stderr = await refused([...tiny, "--data", smallTest]);
    expect(stderr).toContain(join(smallTest, MNIST_FILES.testImages));
    expect(stderr).toMatch(/expected 28x28 images.*found 10x10/);
  });

  it("refuses a training file too small to hold out the validation images, naming --data", async () => {
    const stderr = await refused([...tiny, "--data", fewImages]);
    expect(stderr).toMatch(/^error: --data: expected more than 5000 training images .*found 100\n$/);
  });

  it("refuses --min-lr above --lr before reading the data", async () => {
    const stderr = await refused([...tiny, "--min-lr", "5", "--data", damaged]);
    expect(stderr).toMatch(/^error: --min-lr: expected a number from 0 to the learning rate \(0\.001\), found 5/);
  });

  it("refuses a shift as large as the image, naming --max-shift", async () => {
    const stderr = await refused([...tiny, "--max-shift", "99", "--data", "<data>"]);
    expect(stderr).toMatch(/^error: --max-shift: expected fewer pixels than the 28x28 images .*found 99/);
  });

  it.each([
    [["--iters", "64", "--batch-size", "64"], "--iters", /so that step 1 runs.*found 64 samples, 0 steps/],
    [["--iters", "10", "--batch-size", "64"], "--iters", /0 steps/],
    [["--batch-size", "5000", "--iters", "100000"], "--batch-size", /at most the 1280 images of the training split.*found 5000/],
    [["--batch-size", "1e9"], "--batch-size", /found 1000000000/],
  ])("refuses %j, which would train no step, naming %s", async (flags, flag, why) => {
    const stderr = await refused(["--hidden", "16", "--backend", "cpu", ...flags, "--data", "<data>"]);
    expect(stderr).toContain(`error: ${flag}: `);
    expect(stderr).toMatch(why);
  });

  it("refuses --workers above the core count", async () => {
    const stderr = await refused([...tiny, "--workers", String(availableParallelism() + 1), "--data", "<data>"]);
    expect(stderr).toMatch(/--workers: expected at most \d+ \(the cores this machine has\)/);
  });
});

describe("train refuses a model its engines cannot hold, before building it", () => {
  it("--hidden 5000 on wasm: more than a wasm heap per thread", async () => {
    const stderr = await refused(["--hidden", "5000", "--backend", "wasm", "--workers", "1", "--data", "<data>"]);
    expect(stderr).toMatch(
      /^error: --hidden 5000: training this model needs about \d+\.\d GB; a wasm engine holds at most 4\.3 GB\. Use a smaller --hidden, --layers or --batch-size\.\n$/,
    );
  });

  it("--hidden 100000 on cpu: more than the machine's free memory", async () => {
    const stderr = await refused(["--hidden", "100000", "--backend", "cpu", "--data", "<data>"]);
    expect(stderr).toMatch(/^error: --hidden 100000: training this model needs about \d+\.\d GB; this machine has \d+\.\d GB free\./);
  });
});
