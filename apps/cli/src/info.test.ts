import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { MNIST_FILES } from "@mnist/data";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, tempDir, writeSmallMnist } from "./cli.test-support.js";

let tmp: { path: string; remove: () => Promise<void> };
let good: string;
beforeAll(async () => {
  tmp = await tempDir("info");
  good = await writeSmallMnist(tmp.path, 10, 10);
});
afterAll(() => tmp.remove());

/** A copy of the small data folder with one file replaced. */
async function damagedCopy(name: string, file: string, bytes: Uint8Array): Promise<{ dir: string; path: string }> {
  const dir = join(tmp.path, name);
  await mkdir(dir);
  for (const standard of Object.values(MNIST_FILES)) {
    await writeFile(join(dir, `${standard}.gz`), await readFile(join(good, `${standard}.gz`)));
  }
  const path = join(dir, file);
  await writeFile(path, bytes);
  return { dir, path };
}

describe("info on damaged data", () => {
  it("exits 0 on good data", async () => {
    const { code, stdout } = await runCli(["info", "--backend", "cpu", "--data", good]);
    expect(code).toBe(0);
    expect(stdout).toContain("5010 training and 10 test images");
  });

  it.each([
    ["a truncated gzip file", `${MNIST_FILES.testImages}.gz`, async () => (await readFile(join(good, `${MNIST_FILES.testImages}.gz`))).subarray(0, 100), /bad IDX gzip (stream|trailer)/],
    ["a gzip bomb", `${MNIST_FILES.trainLabels}.gz`, async () => gzipSync(new Uint8Array(70_000_000)), /gzip trailer: expected a decoded size of at most 64000000 bytes, found 70000000 bytes .*--max-input-mb 70/],
    ["labels that do not match the images", `${MNIST_FILES.testLabels}.gz`, async () => gzipSync(Uint8Array.of(0, 0, 8, 1, 0, 0, 0, 2, 1, 2)), /bad IDX count: expected 10 labels/],
  ])("exits 2 with one line naming the file for %s", async (name, file, make, reason) => {
    const { dir, path } = await damagedCopy(name.replace(/ /g, "-"), file, await make());
    const { code, stderr } = await runCli(["info", "--backend", "cpu", "--data", dir]);
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain(path);
    expect(stderr).toMatch(reason);
  });
});
