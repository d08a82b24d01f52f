import { describe, expect, it } from "vitest";
import { resolveModelConfig } from "./config.js";
import { parameterCount, trainingBytes } from "./memory.js";

describe("memory estimate", () => {
  it("counts the tutorial model's parameters", () => {
    // input 28x128 + 128, lstm (128+128)x512 + 512, output 128x10 + 10
    expect(parameterCount(resolveModelConfig())).toBe(3584 + 128 + 131072 + 512 + 1280 + 10);
    // GRU: gates (2H)x(2H) + 2H, candidate (2H)xH + H, two layers of each
    const gru = resolveModelConfig({ cell: "gru", hiddenSize: 4, inputSize: 3, classes: 2, layers: 2 });
    expect(parameterCount(gru)).toBe(3 * 4 + 4 + 2 * (8 * 8 + 8 + 8 * 4 + 4) + 4 * 2 + 2);
  });

  it("charges 20 floats per parameter and 20 per unit of every example-step's activations", () => {
    // 4 bytes x (20 x 136586 parameters + 64 examples x 28 steps x (20 x 128 units + 28 inputs))
    expect(trainingBytes(resolveModelConfig(), 64)).toBe(4 * (20 * 136586 + 64 * 28 * (20 * 128 + 28)));
  });

  it("puts --hidden 5000 far beyond a 4 GiB wasm heap and the tutorial far below it", () => {
    expect(trainingBytes(resolveModelConfig({ hiddenSize: 5000 }), 64)).toBeGreaterThan(15 * 2 ** 30);
    expect(trainingBytes(resolveModelConfig(), 64)).toBeLessThan(40 * 2 ** 20);
  });
});
