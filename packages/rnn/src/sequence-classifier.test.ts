import * as tf from "@tensorflow/tfjs-core";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, randomValues, useBackend } from "./backends.test-support.js";
import type { ModelConfig } from "./config.js";
import { InputShapeError, ModelConfigError } from "./errors.js";
import {
  finiteDifferenceGradient,
  plainModelLogits,
  plainModelLoss,
  type PlainParameters,
} from "./plain-js-model.test-support.js";
import { seededUniform } from "./random.js";
import { SequenceClassifier } from "./sequence-classifier.js";

const tiny = { inputSize: 3, steps: 4, hiddenSize: 5, classes: 3 };

/** Random non-zero weights (biases too), written into the model and returned for the reference. */
function randomizeWeights(model: SequenceClassifier, seed: number): PlainParameters {
  const uniform = seededUniform(seed);
  const parameters: PlainParameters = new Map();
  for (const [name, variable] of Object.entries(model.variables)) {
    const values = randomValues(variable.size, uniform, name.endsWith("bias") ? 0.5 : 0.8);
    variable.assign(tf.tensor(values, variable.shape));
    parameters.set(name, values);
  }
  return parameters;
}

function l2(values: ArrayLike<number>): number {
  return Math.sqrt(Array.from(values).reduce((sum, v) => sum + v * v, 0));
}

let models: SequenceClassifier[] = [];
function track(model: SequenceClassifier): SequenceClassifier {
  models.push(model);
  return model;
}
afterEach(() => {
  for (const model of models) model.dispose();
  models = [];
});

describe("SequenceClassifier.create", () => {
  beforeAll(() => useBackend("cpu"));

  it("defaults to the tutorial's model and names its variables stably", () => {
    const model = track(SequenceClassifier.create());
    expect(model.config).toEqual({ cell: "lstm", inputSize: 28, steps: 28, hiddenSize: 128, classes: 10, forgetBias: 1, seed: 0 });
    const shapes = Object.fromEntries(Object.entries(model.variables).map(([name, v]) => [name, v.shape]));
    expect(shapes).toEqual({
      "input/kernel": [28, 128],
      "input/bias": [128],
      "lstm/kernel": [256, 512],
      "lstm/bias": [512],
      "output/kernel": [128, 10],
      "output/bias": [10],
    });
  });

  it("gives the same weights for the same seed and different ones for another seed", async () => {
    const [a, b, c] = [0, 0, 1].map((seed) => track(SequenceClassifier.create({ ...tiny, seed })));
    const kernel = (m: SequenceClassifier) => m.variables["lstm/kernel"]!.data();
    expect(await kernel(a!)).toEqual(await kernel(b!));
    expect(await kernel(a!)).not.toEqual(await kernel(c!));
  });

  it("draws kernels from the Glorot-uniform range with zero biases", async () => {
    const model = track(SequenceClassifier.create());
    const kernel = Array.from(await model.variables["lstm/kernel"]!.data());
    const limit = Math.sqrt(6 / (256 + 512));
    const [min, max] = [kernel.reduce((a, b) => Math.min(a, b)), kernel.reduce((a, b) => Math.max(a, b))];
    expect(max).toBeLessThanOrEqual(limit);
    expect(min).toBeGreaterThanOrEqual(-limit);
    expect(max).toBeGreaterThan(0.99 * limit);
    const std = l2(kernel) / Math.sqrt(kernel.length);
    expect(std).toBeCloseTo(limit / Math.sqrt(3), 2);
    expect(Array.from(await model.variables["lstm/bias"]!.data()).every((v) => v === 0)).toBe(true);
  });

  it("gives engine variables the stable names, prefixed only while another model holds them", () => {
    const first = SequenceClassifier.create(tiny);
    const second = SequenceClassifier.create(tiny);
    expect(first.variables["lstm/kernel"]!.name).toBe("lstm/kernel");
    expect(second.variables["lstm/kernel"]!.name).toMatch(/^model-\d+\/lstm\/kernel$/);
    first.dispose();
    second.dispose();
    const third = track(SequenceClassifier.create(tiny));
    expect(third.variables["output/bias"]!.name).toBe("output/bias");
  });

  it("builds a GRU when asked", () => {
    const model = track(SequenceClassifier.create({ ...tiny, cell: "gru" }));
    expect(Object.keys(model.variables)).toEqual([
      "input/kernel",
      "input/bias",
      "gru/gates/kernel",
      "gru/gates/bias",
      "gru/candidate/kernel",
      "gru/candidate/bias",
      "output/kernel",
      "output/bias",
    ]);
  });

  it("rejects impossible configs with a ModelConfigError naming the field", () => {
    expect(() => SequenceClassifier.create({ hiddenSize: 0 })).toThrow(ModelConfigError);
    expect(() => SequenceClassifier.create({ cell: "rnn" as "lstm" })).toThrow(/cell/);
  });
});

describe.each(BACKENDS)("SequenceClassifier on %s", (backend) => {
  beforeAll(() => useBackend(backend));

  describe.each(["lstm", "gru"] as const)("%s", (cell) => {
    const config: ModelConfig = { ...tiny, cell, forgetBias: 1, seed: 0 };

    it.each([1, 3])("logits match the plain-JS float64 model for batch %i", async (batch) => {
      const model = track(SequenceClassifier.create(config));
      const parameters = randomizeWeights(model, 21);
      const images = randomValues(batch * tiny.steps * tiny.inputSize, seededUniform(batch));
      const logits = model.logits(tf.tensor3d(images, [batch, tiny.steps, tiny.inputSize]));
      expect(logits.shape).toEqual([batch, tiny.classes]);
      const expected = plainModelLogits(images, batch, parameters, config);
      Array.from(await logits.data()).forEach((v, k) => expect(v).toBeCloseTo(expected[k]!, 5));
    });

    // Tolerance: for every variable, ||g - fd||_2 / ||fd||_2 <= 1e-4, where fd are float64 central
    // differences (epsilon 1e-6) of the plain-JS model; float32 gradients are good to about 1e-6.
    it("lossAndGradients matches float64 central finite differences for every variable", async () => {
      const model = track(SequenceClassifier.create(config));
      const parameters = randomizeWeights(model, 31);
      const batch = 2;
      const images = randomValues(batch * tiny.steps * tiny.inputSize, seededUniform(32));
      const labels = [2, 0];
      const result = model.lossAndGradients(
        tf.tensor3d(images, [batch, tiny.steps, tiny.inputSize]),
        tf.tensor1d(labels, "int32"),
      );
      expect((await result.loss.data())[0]).toBeCloseTo(plainModelLoss(images, labels, parameters, config), 5);
      expect(Object.keys(result.gradients).sort()).toEqual(Object.keys(model.variables).sort());
      for (const [name, gradient] of Object.entries(result.gradients)) {
        const fd = finiteDifferenceGradient(images, labels, parameters, config, name);
        const g = await gradient.data();
        const diff = Array.from(g, (v, k) => v - fd[k]!);
        expect(l2(diff) / l2(fd), name).toBeLessThan(1e-4);
      }
    });
  });

  it("handles any batch size with one model, including 1 and a partial batch", () => {
    const model = track(SequenceClassifier.create(tiny));
    for (const batch of [4, 1, 3]) {
      const images = tf.randomUniform([batch, tiny.steps, tiny.inputSize]) as tf.Tensor3D;
      const labels = tf.zeros([batch], "int32") as tf.Tensor1D;
      const result = model.lossAndGradients(images, labels);
      expect(result.logits.shape).toEqual([batch, tiny.classes]);
      expect(model.predict(images).shape).toEqual([batch, tiny.classes]);
    }
  });

  it("predict gives probabilities: softmax of the logits", async () => {
    const model = track(SequenceClassifier.create(tiny));
    randomizeWeights(model, 41);
    const images = tf.randomUniform([3, tiny.steps, tiny.inputSize]) as tf.Tensor3D;
    const probabilities = Array.from(await model.predict(images).data());
    const expected = await tf.softmax(model.logits(images)).data();
    Array.from(probabilities).forEach((p, k) => expect(p).toBeCloseTo(expected[k]!, 6));
    for (let row = 0; row < 3; row++) {
      expect(probabilities.slice(row * 3, row * 3 + 3).reduce((a, b) => a + b)).toBeCloseTo(1, 5);
    }
  });

  it("does not grow tf.memory().numTensors across repeated calls", () => {
    const model = track(SequenceClassifier.create({ ...tiny, hiddenSize: 8 }));
    const images = tf.randomUniform([4, tiny.steps, tiny.inputSize]) as tf.Tensor3D;
    const labels = tf.tensor1d([0, 1, 2, 1], "int32");
    const run = () => {
      const { loss, logits, gradients } = model.lossAndGradients(images, labels);
      tf.dispose([loss, logits, ...Object.values(gradients)]);
      tf.dispose([model.predict(images), model.logits(images)]);
      // Autodiff through logits (the fast path's custom gradient keeps activations until used).
      const { value, grads } = tf.variableGrads(() => tf.sum(model.logits(images)) as tf.Scalar);
      tf.dispose([value, ...Object.values(grads)]);
    };
    run();
    const before = tf.memory().numTensors;
    for (let k = 0; k < 3; k++) run();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("rejects images and labels that do not fit the config", () => {
    const model = track(SequenceClassifier.create(tiny));
    expect(() => model.logits(tf.zeros([2, tiny.steps, 7]) as tf.Tensor3D)).toThrow(InputShapeError);
    const images = tf.zeros([2, tiny.steps, tiny.inputSize]) as tf.Tensor3D;
    expect(() => model.lossAndGradients(images, tf.tensor1d([0, 1, 2], "int32"))).toThrow(/labels/);
    expect(() => model.lossAndGradients(images, tf.tensor1d([0, 1]))).toThrow(/int32/);
  });
});
