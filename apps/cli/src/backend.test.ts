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

  it.skipIf(nativeLoads)("auto falls back quietly past the native backend that cannot load here", async () => {
    const selection = await selectBackend("auto");
    expect(selection.name).toBe("wasm");
    expect(selection.skipped.map((s) => s.name)).toEqual(["tensorflow"]);
  });

  it.skipIf(nativeLoads)("an explicit native backend that cannot load says what failed and how to fix it", async () => {
    const error = await selectBackend("tensorflow").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendLoadError);
    const message = (error as BackendLoadError).message;
    expect(message).toContain("@tensorflow/tfjs-node");
    expect(message).toContain("pnpm --filter cli add @tensorflow/tfjs-node");
    expect(message).toContain("npm rebuild @tensorflow/tfjs-node --build-addon-from-source");
    expect(message).not.toContain("\n");
  });

  it.skipIf(nativeLoads)("train --backend tensorflow fails with that paragraph, exit 1, before writing anything", async () => {
    const sandbox = await tempDir("backend");
    try {
      const { code, stdout, stderr } = await runCli(["train", "--backend", "tensorflow", "--logdir", `${sandbox.path}/logs`]);
      expect(code).toBe(1);
      expect(stdout).toBe("");
      expect(stderr).toMatch(/^error: The tensorflow backend needs the native package @tensorflow\/tfjs-node.*--build-addon-from-source/);
      expect(await listFiles(sandbox.path)).toEqual([]);
    } finally {
      await sandbox.remove();
    }
  });
});
