import { describe, expect, it } from "vitest";
import { cellTanh } from "./lstm-kernels.js";

describe("cellTanh (the fused cell kernel's tanh of the cell state)", () => {
  it("is within 5e-9 of Math.tanh from -30 to 30, below float32's resolution near +-1", () => {
    let worst = 0;
    let worstAt = 0;
    // A step that is not a multiple of the polynomial's scale, so points fall all over each interval.
    for (let z = -30; z <= 30; z += 1.0007e-4) {
      const error = Math.abs(cellTanh(z) - Math.tanh(z));
      if (error > worst) [worst, worstAt] = [error, z];
    }
    expect(worst, `worst at z = ${worstAt}`).toBeLessThanOrEqual(5e-9);
  });

  it("keeps small arguments accurate in absolute terms and saturates at +-1 for large ones", () => {
    for (const z of [0, 1e-12, -1e-12, 1e-6, -3e-4]) expect(Math.abs(cellTanh(z) - Math.tanh(z))).toBeLessThan(1e-14);
    for (const z of [40, 1e6, Number.MAX_VALUE]) {
      expect(cellTanh(z)).toBeCloseTo(1, 8);
      expect(cellTanh(-z)).toBeCloseTo(-1, 8);
    }
  });
});
