import { describe, expect, it } from "vitest";
import { DEFAULT_TRAIN_CONFIG, learningRateAt, resolveTrainConfig, totalSteps } from "./config.js";
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

describe("learning-rate schedule", () => {
  const rates = (partial: Parameters<typeof resolveTrainConfig>[0], steps: number): number[] => {
    const config = resolveTrainConfig(partial);
    return Array.from({ length: steps }, (_, k) => learningRateAt(config, k + 1, steps));
  };

  it("keeps the tutorial's constant rate by default", () => {
    const config = resolveTrainConfig();
    expect([1, 390, 781].map((step) => learningRateAt(config, step, 781))).toEqual([0.001, 0.001, 0.001]);
  });

  it("warms up linearly from learningRate / warmupSteps to learningRate, then holds it", () => {
    expect(rates({ learningRate: 0.01, warmupSteps: 4 }, 6)).toEqual([0.0025, 0.005, 0.0075, 0.01, 0.01, 0.01]);
  });

  it("decays along half a cosine from learningRate after the warm-up to minLearningRate at the last step", () => {
    // 2 warm-up steps, then steps 3..11: the cosine's argument goes 0, pi/8, ..., pi.
    const got = rates({ learningRate: 0.01, minLearningRate: 0.001, warmupSteps: 2, decay: "cosine" }, 11);
    const expected = [
      0.005, 0.01, // warm-up
      0.01, // step 3: cos 0 = 1
      0.001 + 0.009 * (1 + Math.cos(Math.PI / 8)) / 2,
      0.001 + 0.009 * (1 + Math.SQRT1_2) / 2, // step 5: cos(pi/4)
      0.001 + 0.009 * (1 + Math.cos((3 * Math.PI) / 8)) / 2,
      0.0055, // step 7: cos(pi/2) = 0, halfway
      0.001 + 0.009 * (1 - Math.cos((3 * Math.PI) / 8)) / 2,
      0.001 + 0.009 * (1 - Math.SQRT1_2) / 2, // 0.00231...
      0.001 + 0.009 * (1 - Math.cos(Math.PI / 8)) / 2,
      0.001, // step 11, the last: cos(pi) = -1
    ];
    got.forEach((rate, k) => expect(rate, `step ${k + 1}`).toBeCloseTo(expected[k] ?? Number.NaN, 15));
    expect(got[3]).toBeCloseTo(0.0096574579, 9); // cos(pi/8) = 0.92387953
    expect(rates({ learningRate: 0.004, decay: "cosine" }, 3)).toEqual([0.004, 0.002, 0]); // min 0, no warm-up
  });

  it("divides by 10 after half of the steps and again after three quarters", () => {
    const got = rates({ learningRate: 0.1, decay: "step" }, 8);
    const expected = [0.1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001];
    got.forEach((rate, k) => expect(rate, `step ${k + 1}`).toBeCloseTo(expected[k] ?? Number.NaN, 15));
    const ten = rates({ learningRate: 1, decay: "step", warmupSteps: 2 }, 10);
    expect(ten.map((rate) => rate.toPrecision(3))).toEqual(["0.500", "1.00", "1.00", "1.00", "1.00", "0.100", "0.100", "0.0100", "0.0100", "0.0100"]);
  });

  it("rejects a bad schedule or clipNorm with the field named, and fills defaults for a config without them", () => {
    expect(() => resolveTrainConfig({ warmupSteps: -1 })).toThrow(/warmupSteps/);
    expect(() => resolveTrainConfig({ warmupSteps: 2.5 })).toThrow(/warmupSteps/);
    expect(() => resolveTrainConfig({ decay: "linear" as "none" })).toThrow(/decay.*"cosine"/);
    expect(() => resolveTrainConfig({ minLearningRate: 0.01 })).toThrow(/minLearningRate/); // above learningRate 0.001
    expect(() => resolveTrainConfig({ minLearningRate: -1e-5 })).toThrow(/minLearningRate/);
    expect(() => resolveTrainConfig({ clipNorm: 0 })).toThrow(/clipNorm/);
    expect(() => resolveTrainConfig({ clipNorm: Number.POSITIVE_INFINITY })).toThrow(/clipNorm/);
    const { warmupSteps, decay, minLearningRate, clipNorm, ...old } = resolveTrainConfig({ clipNorm: 5, decay: "cosine" });
    expect([warmupSteps, decay, minLearningRate, clipNorm]).toEqual([0, "cosine", 0, 5]);
    expect(resolveTrainConfig(old)).toEqual({ ...old, warmupSteps: 0, decay: "none", minLearningRate: 0 });
  });
});

describe("dropout rate", () => {
  it("defaults to 0, also for a config saved before the field existed, and takes rates in [0, 1)", () => {
    expect(resolveTrainConfig().dropout).toBe(0);
    const { dropout, ...old } = resolveTrainConfig({ dropout: 0.4 });
    expect(dropout).toBe(0.4);
    expect(resolveTrainConfig(old).dropout).toBe(0);
    expect(resolveTrainConfig({ dropout: 0.999 }).dropout).toBe(0.999);
  });

  it("rejects a rate outside [0, 1) with a ConfigError naming dropout", () => {
    for (const rate of [-0.1, 1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "0.5" as unknown as number]) {
      expect(() => resolveTrainConfig({ dropout: rate }), String(rate)).toThrow(expect.objectContaining({ name: "ConfigError", field: "dropout" }));
    }
  });
});

describe("random translation", () => {
  it("defaults to 0, also for a config saved before the field existed, and rejects what is not a whole number of pixels", () => {
    const { maxShift, ...old } = resolveTrainConfig({ maxShift: 2 });
    expect(maxShift).toBe(2);
    expect(resolveTrainConfig(old).maxShift).toBe(0);
    for (const shift of [-1, 1.5, Number.NaN]) {
      expect(() => resolveTrainConfig({ maxShift: shift }), String(shift)).toThrow(expect.objectContaining({ name: "ConfigError", field: "maxShift" }));
    }
  });
});
