import * as tf from "@tensorflow/tfjs-core";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, randomValues, useBackend } from "./backends.test-support.js";
import { InputShapeError } from "./errors.js";
import { plainLastHidden } from "./plain-forward.js";
import { seededUniform } from "./seeded-uniform.js";
import { SequenceClassifier } from "./sequence-classifier.js";

const tiny = { inputSize: 3, steps: 4, hiddenSize: 5, classes: 3 };

let models: SequenceClassifier[] = [];
afterEach(() => {
  for (const model of models) model.dispose();
  models = [];
});

/** A model with random non-zero weights, biases included. */
function randomModel(cell: "lstm" | "gru", layers: number, outputBias: "added" | "in-weights" = "added"): SequenceClassifier {
  const model = SequenceClassifier.create({ ...tiny, cell, layers, outputBias });
  models.push(model);
  const uniform = seededUniform(7 * layers);
  for (const variable of Object.values(model.variables)) variable.assign(tf.tensor(randomValues(variable.size, uniform, 0.8), variable.shape));
  return model;
}

describe.each(BACKENDS)("SequenceClassifier.lastHidden on %s", (backend) => {
  beforeAll(() => useBackend(backend));

  // On these backends the LSTM's hidden state and logits come from the fast path, the GRU's
  // from the plain one; the next test holds the fast path's hidden state against the plain one's.
  it.each([
    ["lstm", 1],
    ["lstm", 2],
    ["gru", 1],
    ["gru", 2],
  ] as const)("%s with %i layer(s): the output layer applied to it gives the logits", async (cell, layers) => {
    const model = randomModel(cell, layers);
    const batch = 3;
    const images = tf.tensor3d(randomValues(batch * tiny.steps * tiny.inputSize, seededUniform(11)), [batch, tiny.steps, tiny.inputSize]);
    const before = tf.memory().numTensors;
    const hidden = model.lastHidden(images);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(hidden.shape).toEqual([batch, tiny.hiddenSize]);
    const values = await hidden.data();
    // Hidden states of tanh-squashed cells stay inside (-1, 1) and are not all zero.
    expect(Array.from(values).every((v) => Math.abs(v) < 1)).toBe(true);
    expect(Array.from(values).some((v) => Math.abs(v) > 1e-3)).toBe(true);
    const fromHidden = tf.add(tf.matMul(hidden, model.variables["output/kernel"]!), model.variables["output/bias"]!);
    const logits = model.logits(images);
    const [a, b] = [await fromHidden.data(), await logits.data()];
    Array.from(a).forEach((v, k) => expect(v).toBeCloseTo(b[k]!, 5));
    tf.dispose([images, hidden, fromHidden, logits]);
  });

  it.each([1, 2])("lstm with %i layer(s): the fast path's hidden state is the plain path's", async (layers) => {
    const model = randomModel("lstm", layers);
    const images = tf.tensor3d(randomValues(3 * tiny.steps * tiny.inputSize, seededUniform(17)), [3, tiny.steps, tiny.inputSize]);
    const [fast, plain] = [model.lastHidden(images), plainLastHidden(images, model.variables, model.config)];
    const [a, b] = [await fast.data(), await plain.data()];
    Array.from(a).forEach((v, k) => expect(v).toBeCloseTo(b[k]!, 6));
    // Under a gradient tape lastHidden is differentiable: the plain path runs.
    const gradient = tf.grad((x: tf.Tensor) => tf.sum(model.lastHidden(x as tf.Tensor3D)))(images);
    expect(gradient.shape).toEqual(images.shape);
    tf.dispose([images, fast, plain, gradient]);
  });

  it.each([
    ["lstm", "added"],
    ["lstm", "in-weights"],
    ["gru", "in-weights"],
  ] as const)("%s, output bias %s: classify() of it gives the logits", async (cell, outputBias) => {
    const model = randomModel(cell, 1, outputBias);
    const images = tf.tensor3d(randomValues(2 * tiny.steps * tiny.inputSize, seededUniform(13)), [2, tiny.steps, tiny.inputSize]);
    const hidden = model.lastHidden(images);
    const [classified, logits] = [model.classify(hidden), model.logits(images)];
    const [a, b] = [await classified.data(), await logits.data()];
    Array.from(a).forEach((v, k) => expect(v).toBeCloseTo(b[k]!, 5));
    // The bias placement matters: h*W + b is not h*(W + b).
    const added = tf.add(tf.matMul(hidden, model.variables["output/kernel"]!), model.variables["output/bias"]!);
    const gap = Math.max(...Array.from(await added.data(), (v, k) => Math.abs(v - b[k]!)));
    if (outputBias === "in-weights") expect(gap).toBeGreaterThan(1e-2);
    else expect(gap).toBeLessThan(1e-5);
    tf.dispose([images, hidden, classified, logits, added]);
  });

  it("classify() rejects features that are not [batch, hiddenSize] float32", () => {
    const model = randomModel("lstm", 1);
    for (const hidden of [tf.zeros([2, tiny.hiddenSize + 1]), tf.zeros([tiny.hiddenSize]), tf.zeros([2, tiny.hiddenSize], "int32")]) {
      expect(() => model.classify(hidden as tf.Tensor2D)).toThrow(expect.objectContaining({ name: "InputShapeError", argument: "hidden" }));
      hidden.dispose();
    }
  });

  it("rejects images that do not fit the config", () => {
    const model = randomModel("lstm", 1);
    const images = tf.zeros([2, tiny.steps + 1, tiny.inputSize]) as tf.Tensor3D;
    expect(() => model.lastHidden(images)).toThrow(InputShapeError);
    images.dispose();
  });
});
