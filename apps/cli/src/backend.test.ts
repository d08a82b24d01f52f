import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { BackendLoadError, selectBackend } from "./backend.js";
import { listFiles, runCli, tempDir } from "./cli.test-support.js";

const nativeLoads = await import("@tensorflow/tfjs-node" as string).then(
  () => true,
  () => false,
);

describe("selectBackend", () => {
  it.each(["cpu", "wasm"] as const)("activates %s", async (name) => {
    expect((await selectBackend(name)).name).toBe(name);
    expect(tf.getBackend()).toBe(name);
  });

  it.skipIf(nativeLoads)("auto passes over the native backend, not installed by default, to wasm", async () => {
    const selection = await selectBackend("auto");
    expect(selection.name).toBe("wasm");
    expect(selection.skipped).toEqual([{ name: "tensorflow", reason: "it is not installed" }]);
  });

  it.skipIf(nativeLoads)("an explicit native backend that cannot load says what failed and how to fix it", async () => {
    const error = await selectBackend("tensorflow").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendLoadError);
    const message = (error as BackendLoadError).message;
    expect(message).toContain("@tensorflow/tfjs-node");
    expect(message).toContain("it is not installed. It is opt-in: run `pnpm native`");
    expect(message).not.toContain("\n");
    const gpu = (await selectBackend("tensorflow-gpu").catch((e: unknown) => e)) as BackendLoadError;
    expect(gpu.message).toContain("`pnpm --filter cli add @tensorflow/tfjs-node-gpu@catalog:`");
    expect(gpu.message).toContain("CUDA");
  });

  it.skipIf(nativeLoads)("train --backend tensorflow fails with that paragraph, exit 1, before writing anything", async () => {
    const sandbox = await tempDir("backend");
    try {
      const { code, stdout, stderr } = await runCli(["train", "--backend", "tensorflow", "--logdir", `${sandbox.path}/logs`]);
      expect(code).toBe(1);
      expect(stdout).toBe("");
      expect(stderr).toMatch(/^error: The tensorflow backend needs the native package @tensorflow\/tfjs-node.*`pnpm native`/);
      expect(await listFiles(sandbox.path)).toEqual([]);
    } finally {
      await sandbox.remove();
    }
  });
});
