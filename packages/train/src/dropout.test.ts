import { describe, expect, it } from "vitest";
import { dropoutMask, type DropoutSpec } from "./dropout.js";

const spec: DropoutSpec = { rate: 0.3, seed: 5, step: 12, firstExample: 0 };

/** Fraction of entries that differ between two masks of the same size. */
function differing(a: Float32Array, b: Float32Array): number {
  return a.reduce((count, value, k) => count + (value === b[k] ? 0 : 1), 0) / a.length;
}

describe("dropoutMask", () => {
  it("holds 0 for dropped units and 1 / (1 - rate) for kept ones, dropping the rate's fraction", () => {
    for (const rate of [0.1, 0.3, 0.5, 0.9]) {
      const mask = dropoutMask({ ...spec, rate }, 128, 128);
      const kept = Math.fround(1 / (1 - rate));
      expect(mask.every((value) => value === 0 || value === kept), String(rate)).toBe(true);
      // 16384 entries: the dropped fraction's standard deviation is at most 0.004.
      const dropped = mask.filter((value) => value === 0).length / mask.length;
      expect(Math.abs(dropped - rate), String(rate)).toBeLessThan(0.02);
      // Each unit and each example on its own drops about the rate too (no stuck columns or rows).
      for (const unit of [0, 1, 64, 127]) {
        const column = Array.from({ length: 128 }, (_, row) => mask[row * 128 + unit]);
        expect(Math.abs(column.filter((value) => value === 0).length / 128 - rate), `unit ${unit}`).toBeLessThan(0.2);
      }
    }
  });

  it("is a pure function of seed, step, example and unit: shares are the rows of the whole mask", () => {
    const whole = dropoutMask(spec, 10, 16);
    expect(dropoutMask(spec, 10, 16)).toEqual(whole);
    expect(dropoutMask({ ...spec, firstExample: 3 }, 4, 16)).toEqual(whole.subarray(3 * 16, 7 * 16));
    expect(dropoutMask({ ...spec, firstExample: 7 }, 3, 16)).toEqual(whole.subarray(7 * 16));
    // The first units of a wider mask are the narrower mask's (the unit is a counter, not a position).
    const wide = dropoutMask(spec, 10, 20);
    for (let row = 0; row < 10; row++) expect(wide.subarray(row * 20, row * 20 + 16)).toEqual(whole.subarray(row * 16, row * 16 + 16));
  });

  it("gives another step, seed or example unrelated masks", () => {
    const base = dropoutMask(spec, 64, 64);
    // Independent masks of rate 0.3 differ in 2 * 0.3 * 0.7 = 42% of their entries.
    for (const other of [{ ...spec, step: 13 }, { ...spec, seed: 6 }, { ...spec, firstExample: 1 }, { ...spec, seed: -5 }]) {
      expect(Math.abs(differing(dropoutMask(other, 64, 64), base) - 0.42), JSON.stringify(other)).toBeLessThan(0.03);
    }
  });
});
