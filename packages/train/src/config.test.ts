import { describe, expect, it } from "vitest";
import { DEFAULT_TRAIN_CONFIG, resolveTrainConfig, totalSteps } from "./config.js";
import { ConfigError } from "./errors.js";

/** The tutorial's loop, literally: step = 1; while step * batch_size < training_iters: ...; step += 1 */
function tutorialSteps(batchSize: number, trainingIters: number): number {
  let runs = 0;
  let step = 1;
  while (step * batchSize < trainingIters) {
    runs += 1;
    step += 1;
  }
  return runs;
}

describe("step budget", () => {
  it("gives the tutorial's 781 steps for 100000 samples of 128", () => {
    expect(totalSteps(resolveTrainConfig(), 55_000)).toBe(781);
    expect(tutorialSteps(128, 100_000)).toBe(781);
    // 781 * 128 = 99968 < 100000 <= 782 * 128
    expect(781 * 128).toBeLessThan(100_000);
    expect(782 * 128).toBeGreaterThanOrEqual(100_000);
  });

  it("matches the tutorial's loop for other budgets, including exact multiples", () => {
    for (const [batchSize, iters] of [[128, 1280], [128, 1281], [16, 17], [16, 16], [1, 5], [100, 99]] as const) {
      const config = resolveTrainConfig({ batchSize, trainingIters: iters });
      expect(totalSteps(config, 1000)).toBe(tutorialSteps(batchSize, iters));
    }
  });

  it("first logs at 1280 samples with the tutorial's display step", () => {
    const { displayStep, batchSize } = DEFAULT_TRAIN_CONFIG;
    expect(displayStep * batchSize).toBe(1280);
  });

  it("turns epochs into whole steps covering every image", () => {
    expect(totalSteps(resolveTrainConfig({ epochs: 1 }), 55_000)).toBe(430); // 429.7 rounded up
    expect(totalSteps(resolveTrainConfig({ epochs: 2, batchSize: 100 }), 55_000)).toBe(1100);
    expect(totalSteps(resolveTrainConfig({ epochs: 0.5, batchSize: 10 }), 99)).toBe(5);
  });

  it("rejects impossible values with the field named", () => {
    expect(() => resolveTrainConfig({ batchSize: 0 })).toThrow(ConfigError);
    expect(() => resolveTrainConfig({ batchSize: 1.5 })).toThrow(/batchSize/);
    expect(() => resolveTrainConfig({ learningRate: Number.NaN })).toThrow(/learningRate/);
    expect(() => resolveTrainConfig({ epochs: -1 })).toThrow(/epochs/);
    expect(resolveTrainConfig({ batchSize: undefined }).batchSize).toBe(128);
  });
});
