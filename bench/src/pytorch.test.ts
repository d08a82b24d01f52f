import { describe, expect, it } from "vitest";
import { defaultMnistDir } from "@mnist/data/node";
import { findPyTorch, startPyTorch } from "./pytorch.js";
import { RowProcess } from "./row-process.js";

// The PyTorch peer runs only where a python3 with torch is installed; elsewhere `pnpm bench`
// skips its row with a hint, and so does this test.
const torch = findPyTorch();
if (torch === undefined) console.warn("SKIPPED bench PyTorch tests: no python3 with torch (apt-get install python3-torch libopenblas0-pthread)");
const dataDir = defaultMnistDir() ?? "";

describe.runIf(torch !== undefined)("the PyTorch peer", () => {
  it("runs a few steps of the tutorial, printing the tutorial's lines and a test accuracy", async () => {
    const child = startPyTorch(torch!.python, "run", dataDir, ["--steps", "20", "--test-count", "500"]);
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code, output).toBe(0);
    const lines = output.split("\n").filter((line) => line.startsWith("Iteration "));
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^Iteration 2560, Minibatch Loss= \d+\.\d{6}, Training Accuracy= [01]\.\d{5}$/);
    const accuracy = Number(/Testing Accuracy= ([0-9.]+)/.exec(output)?.[1]);
    // 20 steps of Adam lift the test accuracy well above chance (0.1).
    expect(accuracy).toBeGreaterThan(0.2);
    expect(output).toMatch(/Evaluation: \d+ images\/s/);
  }, 120_000);

  it("serves a benchmark row: warm-up, timed steps, peak RSS", async () => {
    const row = await RowProcess.startPyTorch(torch!.python, dataDir);
    expect(await row.warmUp(1, 0)).toBe(1);
    const timings = await row.block(2);
    expect(timings).toHaveLength(2);
    for (const ms of timings) expect(ms).toBeGreaterThan(0);
    expect(await row.finish()).toBeGreaterThan(100 * 1024); // torch alone takes over 100 MB
  }, 120_000);
});
