import * as tf from "@tensorflow/tfjs-core";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, randomValues, useBackend } from "./backends.test-support.js";
import { resolveModelConfig } from "./config.js";
import { InputShapeError, ModelConfigError } from "./errors.js";
import {
  finiteDifferenceGradient,
  plainModelLogits,
  plainModelLoss,
  type PlainParameters,
} from "./plain-js-model.test-support.js";
import { seededUniform } from "./seeded-uniform.js";
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
    expect(model.config).toEqual({
      cell: "lstm",
      inputSize: 28,
      steps: 28,
      hiddenSize: 128,
      layers: 1,
      classes: 10,
      forgetBias: 1,
      recurrentInit: "glorot",
      denseInit: "glorot",
      outputBias: "added",
      seed: 0,
    });
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
    for (const layers of [0, -1, 1.5, "2" as unknown as number]) {
      expect(() => SequenceClassifier.create({ layers }), String(layers)).toThrow(
        expect.objectContaining({ name: "ModelConfigError", field: "layers" }),
      );
    }
    expect(() => SequenceClassifier.create({ recurrentInit: "identity" as "glorot" })).toThrow(
      expect.objectContaining({ name: "ModelConfigError", field: "recurrentInit" }),
    );
    expect(() => SequenceClassifier.create({ denseInit: "uniform" as "glorot" })).toThrow(
      expect.objectContaining({ name: "ModelConfigError", field: "denseInit", expected: '"glorot" or "normal"', actual: '"uniform"' }),
    );
    expect(() => SequenceClassifier.create({ outputBias: "in-kernel" as "added" })).toThrow(
      expect.objectContaining({ name: "ModelConfigError", field: "outputBias", expected: '"added" or "in-weights"', actual: '"in-kernel"' }),
    );
  });

  it("keeps user metadata as a frozen copy and rejects what JSON cannot hold", () => {
    const metadata = { sequence: "pixels", permute: 7, sizes: [1, 2], nested: { ok: true, skipped: undefined } };
    const model = track(SequenceClassifier.create(tiny, { metadata }));
    metadata.sizes.push(3);
    expect(model.metadata).toEqual({ sequence: "pixels", permute: 7, sizes: [1, 2], nested: { ok: true } });
    expect(Object.isFrozen(model.metadata) && Object.isFrozen(model.metadata.sizes)).toBe(true);
    expect(track(SequenceClassifier.create(tiny)).metadata).toEqual({});
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const cases: [unknown, string][] = [
      [{ rate: Number.NaN }, "metadata.rate"],
      [{ list: [1, undefined] }, "metadata.list[1]"],
      [{ when: new Date(0) }, "metadata.when"],
      [{ run: () => 1 }, "metadata.run"],
      [cyclic, "metadata.self"],
      [[1, 2], "metadata"],
    ];
    for (const [bad, field] of cases) {
      expect(() => SequenceClassifier.create(tiny, { metadata: bad as Record<string, unknown> }), field).toThrow(
        expect.objectContaining({ name: "ModelMetadataError", field }),
      );
    }
  });
});

describe.each(BACKENDS)("SequenceClassifier on %s", (backend) => {
  beforeAll(() => useBackend(backend));

  // "in-weights": the tutorial copies' output layer h*(W + b), checked like the default one.
  describe.each([
    ["lstm", "added"],
    ["gru", "added"],
    ["lstm", "in-weights"],
    ["gru", "in-weights"],
  ] as const)("%s, output bias %s", (cell, outputBias) => {
    const config = resolveModelConfig({ ...tiny, cell, outputBias });

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

  describe.each([
    ["lstm", 2],
    ["lstm", 3],
    ["gru", 2],
    ["gru", 3],
  ] as const)("%s with %i stacked layers", (cell, layers) => {
    const config = resolveModelConfig({ ...tiny, cell, layers });

    it("has one set of cell variables per layer and logits that match the plain-JS float64 model", async () => {
      const model = track(SequenceClassifier.create(config));
      const cellVariables = Object.keys(model.variables).filter((name) => name.startsWith(cell));
      expect(cellVariables.length).toBe(layers * (cell === "lstm" ? 2 : 4));
      expect(model.variables[`${cell}_${layers}/${cell === "lstm" ? "kernel" : "gates/kernel"}`]!.shape).toEqual(
        cell === "lstm" ? [10, 20] : [10, 10],
      );
      const parameters = randomizeWeights(model, 51);
      const batch = 3;
      const images = randomValues(batch * tiny.steps * tiny.inputSize, seededUniform(52));
      const logits = model.logits(tf.tensor3d(images, [batch, tiny.steps, tiny.inputSize]));
      expect(logits.shape).toEqual([batch, tiny.classes]);
      const expected = plainModelLogits(images, batch, parameters, config);
      Array.from(await logits.data()).forEach((v, k) => expect(v).toBeCloseTo(expected[k]!, 5));
    });

    it("lossAndGradients matches float64 central finite differences for every variable of every layer", async () => {
      const model = track(SequenceClassifier.create(config));
      const parameters = randomizeWeights(model, 61);
      const batch = 2;
      const images = randomValues(batch * tiny.steps * tiny.inputSize, seededUniform(62));
      const labels = [1, 2];
      const result = model.lossAndGradients(tf.tensor3d(images, [batch, tiny.steps, tiny.inputSize]), tf.tensor1d(labels, "int32"));
      expect((await result.loss.data())[0]).toBeCloseTo(plainModelLoss(images, labels, parameters, config), 5);
      expect(Object.keys(result.gradients).sort()).toEqual(Object.keys(model.variables).sort());
      for (const [name, gradient] of Object.entries(result.gradients)) {
        const fd = finiteDifferenceGradient(images, labels, parameters, config, name);
        const diff = Array.from(await gradient.data(), (v, k) => v - fd[k]!);
        expect(l2(fd), name).toBeGreaterThan(1e-3);
        expect(l2(diff) / l2(fd), name).toBeLessThan(1e-4);
      }
    });
  });

  // MNIST as 784 steps of one pixel: logits against the plain-JS model, and a sample of each
  // variable's gradient entries against finite differences (all of them would take seconds).
  it.each(["lstm", "gru"] as const)("%s reads a 784-step sequence of single pixels", async (cell) => {
    const config = resolveModelConfig({ cell, steps: 784, inputSize: 1, hiddenSize: 8, classes: 10 });
    const model = track(SequenceClassifier.create(config));
    const parameters = randomizeWeights(model, 71);
    const batch = 2;
    const images = randomValues(batch * 784, seededUniform(72)).map((v) => (v < 0 ? 0 : v));
    const labels = [3, 8];
    const result = model.lossAndGradients(tf.tensor3d(images, [batch, 784, 1]), tf.tensor1d(labels, "int32"));
    const expected = plainModelLogits(images, batch, parameters, config);
    expect(result.logits.shape).toEqual([batch, 10]);
    Array.from(await result.logits.data()).forEach((v, k) => expect(v).toBeCloseTo(expected[k]!, 4));
    const sample = seededUniform(73);
    for (const [name, gradient] of Object.entries(result.gradients)) {
      const g = await gradient.data();
      const entries = Array.from({ length: 4 }, () => Math.floor(sample() * g.length));
      const fd = finiteDifferenceGradient(images, labels, parameters, config, name, 1e-6, entries);
      const diff = entries.map((entry, k) => g[entry]! - fd[k]!);
      expect(l2(diff), name).toBeLessThan(1e-4 * Math.max(l2(fd), 1e-2));
    }
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

  it.each([1, 2])("does not grow tf.memory().numTensors across repeated calls (%i layers)", (layers) => {
    const model = track(SequenceClassifier.create({ ...tiny, hiddenSize: 8, layers }));
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

  it.each(["lstm", "gru"] as const)("%s: an all-ones output mask gives exactly the unmasked results; a dropped unit gets no output gradient", async (cell) => {
    const model = track(SequenceClassifier.create({ ...tiny, cell }));
    randomizeWeights(model, 81);
    const batch = 3;
    const images = tf.tensor3d(randomValues(batch * tiny.steps * tiny.inputSize, seededUniform(82)), [batch, tiny.steps, tiny.inputSize]);
    const labels = tf.tensor1d([2, 0, 1], "int32");
    const read = async ({ loss, logits, gradients }: ReturnType<SequenceClassifier["lossAndGradients"]>) => ({
      loss: await loss.data(),
      logits: await logits.data(),
      gradients: Object.fromEntries(await Promise.all(Object.entries(gradients).map(async ([name, g]) => [name, await g.data()] as const))),
    });
    const plain = await read(model.lossAndGradients(images, labels));
    const ones = await read(model.lossAndGradients(images, labels, { outputMask: tf.ones([batch, tiny.hiddenSize]) }));
    expect(ones).toEqual(plain);
    // Unit 1 dropped in every example: it reaches no logit, so its output/kernel row gets no gradient.
    const dropped = tf.tensor2d(Array.from({ length: batch * tiny.hiddenSize }, (_, k) => (k % tiny.hiddenSize === 1 ? 0 : 2)), [batch, tiny.hiddenSize]);
    const masked = await read(model.lossAndGradients(images, labels, { outputMask: dropped }));
    const outputKernel = masked.gradients["output/kernel"]!;
    expect(Array.from(outputKernel.slice(tiny.classes, 2 * tiny.classes))).toEqual([0, 0, 0]);
    expect(l2(outputKernel)).toBeGreaterThan(1e-3);
    expect(masked.logits).not.toEqual(plain.logits);
    // logits() and predict() never mask.
    expect(await model.logits(images).data()).toEqual(plain.logits);
  });

  it("rejects images and labels that do not fit the config", () => {
    const model = track(SequenceClassifier.create(tiny));
    expect(() => model.logits(tf.zeros([2, tiny.steps, 7]) as tf.Tensor3D)).toThrow(InputShapeError);
    const images = tf.zeros([2, tiny.steps, tiny.inputSize]) as tf.Tensor3D;
    expect(() => model.lossAndGradients(images, tf.tensor1d([0, 1, 2], "int32"))).toThrow(/labels/);
    expect(() => model.lossAndGradients(images, tf.tensor1d([0, 1]))).toThrow(/int32/);
    const labels = tf.tensor1d([0, 1], "int32");
    expect(() => model.lossAndGradients(images, labels, { outputMask: tf.ones([2, tiny.hiddenSize + 1]) as tf.Tensor2D })).toThrow(
      expect.objectContaining({ name: "InputShapeError", argument: "outputMask" }),
    );
    expect(() => model.lossAndGradients(images, labels, { outputMask: tf.ones([2, tiny.hiddenSize], "int32") as tf.Tensor2D })).toThrow(/outputMask: expected dtype float32/);
  });
});
