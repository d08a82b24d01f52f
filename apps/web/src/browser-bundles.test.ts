import { build } from "esbuild";
import { describe, expect, it } from "vitest";

// The packages' main entries are what a page imports; Node-only code (node:fs, worker_threads)
// belongs in their ./node entries. Bundling each main entry for the browser with nothing marked
// external fails on any node: import, static or dynamic, so this is the proof.
const PACKAGES = ["@mnist/data", "@mnist/rnn", "@mnist/train", "@mnist/summary"];

describe("browser bundles", () => {
  it.each(PACKAGES)("%s's main entry bundles for the browser with no node: module", async (name) => {
    const result = await build({
      // Resolved from this app as a page resolves it: the workspace package's source entry.
      stdin: { contents: `export * from "${name}";`, resolveDir: import.meta.dirname },
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      logLevel: "silent",
      conditions: ["source"],
    });
    expect(result.errors).toEqual([]);
    const code = new TextDecoder().decode(result.outputFiles[0]?.contents);
    expect(code).not.toMatch(/["']node:/);
  });

  it("would catch a node: import (the check can fail)", async () => {
    const attempt = build({ stdin: { contents: 'export const f = () => import("node:fs/promises");' }, bundle: true, platform: "browser", write: false, logLevel: "silent" });
    await expect(attempt).rejects.toThrow(/node:fs\/promises/);
  });
});
