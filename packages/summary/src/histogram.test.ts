import { describe, expect, it } from "vitest";
import { computeHistogram } from "./histogram.js";

// Independent placement: the bucket whose (left, right] interval holds v,
// found by a linear scan over the limits the histogram reports.
function place(limits: number[], v: number): number {
  let left = -Number.MAX_VALUE;
  for (let i = 0; i < limits.length; i++) {
    if (v > left && v <= limits[i]!) return i;
    left = limits[i]!;
  }
  return -1;
}

function seeded(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  });
}

describe("computeHistogram", () => {
  const values = seeded(5000, 7).map((u, i) => (u - 0.5) * 10 ** ((i % 9) - 4)); // magnitudes 1e-4..1e4, both signs, and exact zeros
  values.push(0, 0, 1, -1);

  it("counts each value in the bucket whose interval holds it", () => {
    const h = computeHistogram(values);
    const expected = new Array<number>(h.bucketLimits.length).fill(0);
    for (const v of values) expected[place(h.bucketLimits, v)]!++;
    expect(h.bucketCounts).toEqual(expected);
    expect(h.count).toBe(values.length);
  });

  it("reports min, max, sum and sum of squares of the values", () => {
    const h = computeHistogram(values);
    expect(h.min).toBe(Math.min(...values));
    expect(h.max).toBe(Math.max(...values));
    expect(h.sum).toBeCloseTo(values.reduce((a, v) => a + v, 0), 6);
    expect(h.sumSquares / values.reduce((a, v) => a + v * v, 0)).toBeCloseTo(1, 12);
  });

  it("uses TensorBoard's exponential edges: 0 and ±1e-12·1.1^k", () => {
    const h = computeHistogram(values);
    for (const limit of h.bucketLimits) {
      if (limit === 0) continue;
      const k = Math.log(Math.abs(limit) / 1e-12) / Math.log(1.1);
      expect(Math.abs(k - Math.round(k)), String(limit)).toBeLessThan(1e-6);
    }
    expect(h.bucketLimits).toContain(0);
    // Strictly increasing, and every empty bucket sits between two occupied ones or first.
    for (let i = 1; i < h.bucketLimits.length; i++) expect(h.bucketLimits[i]).toBeGreaterThan(h.bucketLimits[i - 1]!);
    h.bucketCounts.forEach((c, i) => {
      if (c === 0) expect(i === 0 || (h.bucketCounts[i - 1]! > 0 && h.bucketCounts[i + 1]! > 0)).toBe(true);
    });
    expect(h.bucketCounts.at(-1)).toBeGreaterThan(0);
  });

  it("keeps every value within 10% of its bucket's edges", () => {
    const h = computeHistogram([0.5]);
    // [empty bucket up to the left edge, the bucket holding 0.5]
    expect(h.bucketCounts).toEqual([0, 1]);
    const [left, right] = h.bucketLimits as [number, number];
    expect(left).toBeLessThan(0.5);
    expect(right).toBeGreaterThanOrEqual(0.5);
    expect(right / left).toBeCloseTo(1.1, 12);
  });

  it("puts values beyond 1e20 into the last bucket", () => {
    const h = computeHistogram([1e30, -1e30]);
    expect(h.bucketLimits.at(-1)).toBe(Number.MAX_VALUE);
    expect(h.bucketCounts[0]).toBe(1);
    expect(h.bucketCounts.at(-1)).toBe(1);
  });

  it("leaves NaN and infinities out and handles no finite values", () => {
    expect(computeHistogram([1, NaN, Infinity, -Infinity, 2])).toMatchObject({ count: 2, min: 1, max: 2, sum: 3 });
    expect(computeHistogram([NaN])).toEqual({ min: 0, max: 0, count: 0, sum: 0, sumSquares: 0, bucketLimits: [], bucketCounts: [] });
    expect(computeHistogram(new Float32Array(0)).count).toBe(0);
  });
});
