import { describe, expect, it } from "vitest";
import { resolveModelConfig } from "./config.js";
import { initialParameters, parameterSpecs } from "./parameters.js";
import { seededUniform } from "./seeded-uniform.js";
import { randomOrthogonal } from "./weight-init.js";

/** Largest |(Q^T Q - I)_{ab}| over the [size, size] block of `kernel` at rows firstRow.., columns firstColumn... */
function orthogonalityError(kernel: Float32Array, columns: number, firstRow: number, firstColumn: number, size: number): number {
  let worst = 0;
  for (let a = 0; a < size; a++) {
    for (let b = 0; b < size; b++) {
      let dot = 0;
      for (let r = 0; r < size; r++) {
        const row = (firstRow + r) * columns + firstColumn;
        dot += kernel[row + a]! * kernel[row + b]!;
      }
      worst = Math.max(worst, Math.abs(dot - (a === b ? 1 : 0)));
    }
  }
  return worst;
}

describe("parameterSpecs", () => {
  it.each([
    ["lstm", 3, ["lstm/kernel", "lstm/bias", "lstm_2/kernel", "lstm_2/bias", "lstm_3/kernel", "lstm_3/bias"]],
    ["gru", 2, ["gru/gates/kernel", "gru/gates/bias", "gru/candidate/kernel", "gru/candidate/bias",
      "gru_2/gates/kernel", "gru_2/gates/bias", "gru_2/candidate/kernel", "gru_2/candidate/bias"]],
  ] as const)("lists %s layers 1..%i between input and output, each shaped like layer 1", (cell, layers, cellNames) => {
    const specs = parameterSpecs(resolveModelConfig({ cell, layers, inputSize: 3, hiddenSize: 5, classes: 4 }));
    expect(specs.map((spec) => spec.name)).toEqual(["input/kernel", "input/bias", ...cellNames, "output/kernel", "output/bias"]);
    const single = parameterSpecs(resolveModelConfig({ cell, inputSize: 3, hiddenSize: 5, classes: 4 }));
    const shapeOf = (name: string) => single.find((spec) => spec.name === name.replace(/_\d+\//, "/"))?.shape;
    for (const spec of specs) expect(spec.shape, spec.name).toEqual(shapeOf(spec.name));
  });
});

describe("initialParameters", () => {
  it("gives a one-layer Glorot model the weights it had before stacking existed (same draws, same order)", () => {
    const config = resolveModelConfig({ inputSize: 3, hiddenSize: 4, classes: 2, seed: 9 });
    const uniform = seededUniform(9);
    const glorot = (fanIn: number, fanOut: number) => {
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      return Float32Array.from({ length: fanIn * fanOut }, () => (2 * uniform() - 1) * limit);
    };
    const expected = [glorot(3, 4), new Float32Array(4), glorot(8, 16), new Float32Array(16), glorot(4, 2), new Float32Array(2)];
    expect([...initialParameters(config).values()]).toEqual(expected);
  });

  it("randomOrthogonal gives Q^T Q = I in float64", () => {
    const q = randomOrthogonal(33, seededUniform(4));
    const asFloat32 = Float32Array.from(q);
    expect(orthogonalityError(asFloat32, 33, 0, 0, 33)).toBeLessThan(1e-5);
    expect(q.some((v) => Math.abs(v) > 0.2)).toBe(true);
  });

  describe.each([
    ["lstm", ["lstm/kernel", "lstm_2/kernel"]],
    ["gru", ["gru/gates/kernel", "gru/candidate/kernel", "gru_2/gates/kernel", "gru_2/candidate/kernel"]],
  ] as const)("recurrentInit orthogonal, %s", (cell, kernels) => {
    const hidden = 16;
    const base = { cell, layers: 2, inputSize: 5, hiddenSize: hidden, classes: 3, seed: 12 } as const;
    const orthogonal = initialParameters(resolveModelConfig({ ...base, recurrentInit: "orthogonal" }));
    const glorot = initialParameters(resolveModelConfig(base));

    it("makes every [H, H] gate block of the recurrent rows orthogonal (Q^T Q = I within 1e-5)", () => {
      for (const name of kernels) {
        const kernel = orthogonal.get(name)!;
        const columns = kernel.length / (2 * hidden);
        for (let block = 0; block < columns / hidden; block++) {
          expect(orthogonalityError(kernel, columns, hidden, block * hidden, hidden), `${name} block ${block}`).toBeLessThan(1e-5);
        }
        expect(orthogonalityError(glorot.get(name)!, columns, hidden, 0, hidden), `${name} Glorot`).toBeGreaterThan(0.1);
      }
    });

    it("keeps the input rows and every other parameter exactly as the Glorot init of the same seed", () => {
      for (const [name, value] of glorot) {
        const other = orthogonal.get(name)!;
        if ((kernels as readonly string[]).includes(name)) {
          const inputRows = value.length / 2;
          expect(other.subarray(0, inputRows), name).toEqual(value.subarray(0, inputRows));
          expect(other.subarray(inputRows), name).not.toEqual(value.subarray(inputRows));
        } else {
          expect(other, name).toEqual(value);
        }
      }
    });

    it("gives the same weights for the same seed and different ones for another seed", () => {
      const again = initialParameters(resolveModelConfig({ ...base, recurrentInit: "orthogonal" }));
      const other = initialParameters(resolveModelConfig({ ...base, recurrentInit: "orthogonal", seed: 13 }));
      expect(again).toEqual(orthogonal);
      expect(other.get(kernels[0])).not.toEqual(orthogonal.get(kernels[0]));
    });
  });
});

describe("initialParameters with denseInit normal (the tutorial's tf.random_normal)", () => {
  const base = { inputSize: 28, hiddenSize: 128, classes: 10, layers: 2, seed: 4 } as const;
  const dense = ["input/kernel", "input/bias", "output/kernel", "output/bias"];
  const normal = initialParameters(resolveModelConfig({ ...base, denseInit: "normal" }));
  const glorot = initialParameters(resolveModelConfig(base));

  it("draws the input and output kernels and biases from N(0, 1)", () => {
    const values = dense.flatMap((name) => Array.from(normal.get(name)!)); // 5002 values
    const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
    const variance = values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / values.length;
    const within = (k: number) => values.filter((v) => Math.abs(v) < k).length / values.length;
    // Standard errors at n = 5002: mean 0.014, variance 0.02, the two fractions 0.007 and 0.003.
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(variance - 1)).toBeLessThan(0.08);
    expect(Math.abs(within(1) - 0.6827)).toBeLessThan(0.03);
    expect(Math.abs(within(2) - 0.9545)).toBeLessThan(0.015);
    // Each one on its own too: no zero biases, no Glorot-sized kernel.
    for (const name of dense) expect(Math.max(...Array.from(normal.get(name)!, Math.abs)), name).toBeGreaterThan(1);
  });

  it("keeps every recurrent parameter exactly as the Glorot init of the same seed", () => {
    for (const [name, value] of glorot) {
      if (dense.includes(name)) expect(normal.get(name), name).not.toEqual(value);
      else expect(normal.get(name), name).toEqual(value);
    }
  });

  it("gives the same weights for the same seed and different ones for another seed", () => {
    expect(initialParameters(resolveModelConfig({ ...base, denseInit: "normal" }))).toEqual(normal);
    const other = initialParameters(resolveModelConfig({ ...base, denseInit: "normal", seed: 5 }));
    for (const name of dense) expect(other.get(name), name).not.toEqual(normal.get(name));
  });
});
