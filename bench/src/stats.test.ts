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

test("tutorial model costs about 2.9 GFLOP per training step", () => {
  // 128 * 28 rows: projection 28x128 and gates 256x512 per row, output 128x10.
  const forward = 2 * 128 * (28 * (28 * 128 + 256 * 512) + 128 * 10);
  expect(trainingStepFlops(128, 28, 28, 128, 10)).toBe(3 * forward);
  expect(trainingStepFlops(128, 28, 28, 128, 10) / 1e9).toBeCloseTo(2.897, 3);
});
