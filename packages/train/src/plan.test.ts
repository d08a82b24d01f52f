import { describe, expect, it } from "vitest";
import type { MnistSplit } from "@mnist/data";
import { DEFAULT_MODEL_CONFIG } from "@mnist/rnn";
import { ConfigError } from "./errors.js";
import { checkTrainingPlan, type TrainingPlan } from "./plan.js";

/** `count` blank images of rows x cols: the check looks at sizes, never at pixels. */
function split(count: number, rows = 28, cols = 28): MnistSplit {
  return { images: new Uint8Array(count * rows * cols), labels: new Uint8Array(count), count, rows, cols };
}

const plan = (changes: Partial<TrainingPlan> = {}): TrainingPlan => ({ model: DEFAULT_MODEL_CONFIG, config: { batchSize: 64, trainingIters: 641 }, train: split(1000), ...changes });

/** The ConfigError the plan throws, as its field, expected and actual. */
function refusal(bad: TrainingPlan): Pick<ConfigError, "field" | "expected" | "actual"> {
  try {
    checkTrainingPlan(bad);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const { field, expected, actual } = error as ConfigError;
    return { field, expected, actual };
  }
  throw new Error("the plan was accepted");
}

describe("checkTrainingPlan", () => {
  it("accepts a plan that runs, returning the resolved config and its steps", () => {
    const { config, totalSteps } = checkTrainingPlan(plan({ evaluated: { validation: split(10), test: split(10) } }));
    expect(totalSteps).toBe(10);
    expect(config).toMatchObject({ batchSize: 64, trainingIters: 641, learningRate: 0.001 });
    // A batch as large as the training split, and a budget of exactly one step, still run.
    expect(checkTrainingPlan(plan({ config: { batchSize: 1000, trainingIters: 1001 } })).totalSteps).toBe(1);
  });

  it("refuses splits whose images are not the model's steps x inputs, naming the split", () => {
    expect(refusal(plan({ evaluated: { test: split(10, 10, 10) } }))).toMatchObject({ field: "test split", actual: "10 x 10" });
    expect(refusal(plan({ train: split(1000, 784, 1) }))).toMatchObject({ field: "training split", actual: "784 x 1" });
    expect(refusal(plan({ evaluated: { validation: split(0) } }))).toMatchObject({ field: "validation split", actual: "0 images" });
  });

  it("refuses a batch larger than the training split", () => {
    expect(refusal(plan({ train: split(100), config: { batchSize: 128 } }))).toMatchObject({ field: "batchSize", actual: "128" });
    expect(refusal(plan({ config: { batchSize: 1e9 } }))).toMatchObject({ field: "batchSize" });
  });

  it("refuses a budget that runs no step, or none past the steps a resumed run has done", () => {
    expect(refusal(plan({ config: { batchSize: 64, trainingIters: 64 } }))).toMatchObject({ field: "trainingIters", actual: "64 samples, 0 steps" });
    expect(refusal(plan({ config: { batchSize: 64, trainingIters: 10 } }))).toMatchObject({ field: "trainingIters" });
    expect(refusal(plan({ config: { batchSize: 64, trainingIters: 641 }, resumed: { step: 10, trainCount: 1000 } }))).toMatchObject({
      field: "trainingIters",
      actual: "641 samples, 10 steps (10 already done)",
    });
    expect(checkTrainingPlan(plan({ config: { batchSize: 64, trainingIters: 705 }, resumed: { step: 10, trainCount: 1000 } })).totalSteps).toBe(11);
    expect(refusal(plan({ config: { batchSize: 64, epochs: 0.5 }, resumed: { step: 8, trainCount: 1000 } }))).toMatchObject({ field: "epochs" });
  });

  it("refuses to resume on a training split of another size than the checkpoint's", () => {
    expect(refusal(plan({ resumed: { step: 1, trainCount: 55000 } }))).toMatchObject({ field: "training split", expected: "55000 images, as in the run being resumed", actual: "1000 images" });
  });

  it("refuses a shift as large as the image and a config invalid on its own", () => {
    expect(refusal(plan({ config: { batchSize: 64, maxShift: 99 } }))).toMatchObject({ field: "maxShift", actual: "99" });
    expect(refusal(plan({ config: { batchSize: 64, maxShift: 28 } }))).toMatchObject({ field: "maxShift" });
    expect(checkTrainingPlan(plan({ config: { batchSize: 64, maxShift: 27 } })).config.maxShift).toBe(27);
    expect(refusal(plan({ config: { learningRate: 0.001, minLearningRate: 5 } }))).toMatchObject({ field: "minLearningRate", actual: "5" });
  });
});
