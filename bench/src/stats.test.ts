import { describe, expect, test } from "vitest";
import { summarize, trainingStepFlops } from "./stats.js";

describe("summarize", () => {
  test("odd and even sample sizes", () => {
    expect(summarize([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5 });
    expect(summarize([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4 });
  });
  test("rejects an empty sample", () => {
    expect(() => summarize([])).toThrow(/no values/);
  });
});

// Counted by hand, one product at a time: an [m, k] x [k, n] product is m*k*n multiply-adds,
// 2 FLOP each; a training step is the forward pass and a backward pass of twice its work.
test("tutorial model: 2,896,625,664 FLOP per training step (about 2.9 GFLOP)", () => {
  // Batch 128, 28 rows of 28 pixels, hidden 128, 10 classes. Multiply-adds of one forward pass:
  const projection = 28 * 458_752; // per row [128, 28] x [28, 128] = 458,752; 28 rows: 12,845,056
  const gates = 28 * 16_777_216; // per row [128, 256] x [256, 512] ([x | h] times the kernel) = 16,777,216; 28 rows: 469,762,048
  const output = 163_840; // [128, 128] x [128, 10]
  expect(projection + gates + output).toBe(482_770_944);
  // Forward 2 * 482,770,944 = 965,541,888 FLOP; with the backward pass, 3 times that.
  expect(trainingStepFlops(128, 28, 28, 128, 10)).toBe(2_896_625_664);
  expect(trainingStepFlops(128, 28, 28, 128, 10) / 1e9).toBeCloseTo(2.897, 3);
});

test("charges each shape where it belongs (every size distinct)", () => {
  // Batch 2, 3 steps of 5 inputs, hidden 7, 11 classes. Multiply-adds of one forward pass:
  // projection 3 * [2, 5] x [5, 7] = 3 * 70 = 210; gates 3 * [2, 14] x [14, 28] = 3 * 784 = 2352;
  // output [2, 7] x [7, 11] = 154. Total 2716, forward 5432 FLOP, training step 16,296.
  expect(trainingStepFlops(2, 3, 5, 7, 11)).toBe(16_296);
});
