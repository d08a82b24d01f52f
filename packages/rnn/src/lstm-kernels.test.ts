import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, useBackend } from "./backends.test-support.js";
import { backwardStep, cellTanh } from "./lstm-kernels.js";

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

describe.each(BACKENDS)("backwardStep on %s", (backend) => {
  beforeAll(() => useBackend(backend));

  /** dz and dcPrev of one unit (batch 1, hidden 1) whose gate sigmoids are all 0.7 and tanh(c) 0.5, given dL/dh. */
  function oneUnit(dh: number): { dz: Float32Array; dcPrev: Float32Array } {
    return tf.tidy(() => {
      const out = backwardStep({
        dh: tf.tensor2d([[dh]]),
        dhAbove: undefined,
        gates: tf.tensor2d([[0.7, 0.7, 0.7, 0.7]]),
        tanhC: tf.tensor2d([[0.5]]),
        cPrev: tf.tensor2d([[0.3]]),
        dcNext: undefined,
      });
      return { dz: out.dz.dataSync() as Float32Array, dcPrev: out.dcPrev.dataSync() as Float32Array };
    });
  }

  it("takes a vanished dL/dh (below 1e-30) as 0, so no subnormal number reaches the backend's products", () => {
    const { dz, dcPrev } = oneUnit(3e-31);
    expect([...dz, ...dcPrev]).toEqual([0, 0, 0, 0, 0]);
  });

  it("keeps a small dL/dh above 1e-30: each gate's gradient as the chain rule gives it", () => {
    const dh = 1e-29;
    const [i, j, f, o, tc] = [0.7, 2 * 0.7 - 1, 0.7, 0.7, 0.5];
    const dc = dh * o * (1 - tc * tc);
    const expected = [dc * j * i * (1 - i), dc * i * (1 - j * j), dc * 0.3 * f * (1 - f), dh * tc * o * (1 - o), dc * f];
    const { dz, dcPrev } = oneUnit(dh);
    [...dz, ...dcPrev].forEach((value, k) => expect(value / (expected[k] as number), `output ${k}`).toBeCloseTo(1, 5));
  });
});
