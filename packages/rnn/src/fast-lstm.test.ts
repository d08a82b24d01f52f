import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { loadMnist } from "@mnist/data/node";
import { BACKENDS, randomValues, useBackend } from "./backends.test-support.js";
import { resolveModelConfig, type ModelConfig } from "./config.js";
import { softmaxCrossEntropy } from "./cross-entropy.js";
import { fastLogits, fastLossAndGradients } from "./fast-lstm.js";
import { parameterSpecs } from "./parameters.js";
import { plainLogits } from "./plain-forward.js";
import { seededUniform } from "./seeded-uniform.js";
import { SequenceClassifier } from "./sequence-classifier.js";

// The fast path (re-associated input projection, fused float64 cell kernels, hand-written BPTT)
// must compute the same function as the plain per-step LSTM under TensorFlow.js autodiff.
// Tolerance, float32 on both sides: for logits and for every gradient,
// ||fast - plain||_2 / ||plain||_2 <= 1e-5 (measured: at most 6e-7).
const TOLERANCE = 1e-5;
/** Training curves: every step's loss, and the weights after 50 steps, relative (measured: at most 1.2e-5). */
const CURVE_TOLERANCE = 1e-4;
const config = resolveModelConfig({ inputSize: 7, steps: 6, hiddenSize: 16, classes: 4, forgetBias: 1 });

function randomParameters(seed: number, model: ModelConfig = config): Record<string, tf.Tensor> {
  const uniform = seededUniform(seed);
  return Object.fromEntries(
    parameterSpecs(model).map(({ name, shape }) => {
      const count = shape.reduce((a, b) => a * b, 1);
      return [name, tf.tensor(randomValues(count, uniform, name.endsWith("bias") ? 0.5 : 0.6), shape)];
    }),
  );
}

function relativeError(actual: tf.Tensor, expected: tf.Tensor): number {
  return tf.tidy(() => tf.norm(tf.sub(actual, expected)).dataSync()[0]! / tf.norm(expected).dataSync()[0]!);
}

/** The reference: plain per-step ops, gradients by TensorFlow.js autodiff. */
function plainLossAndGradients(
  images: tf.Tensor3D,
  labels: tf.Tensor1D,
  parameters: Record<string, tf.Tensor>,
  model: ModelConfig,
  outputMask?: tf.Tensor2D,
) {
  const names = Object.keys(parameters);
  const f = (...values: tf.Tensor[]) => {
    const bound = Object.fromEntries(names.map((name, k) => [name, values[k] as tf.Tensor]));
    return softmaxCrossEntropy(plainLogits(images, bound, model, outputMask), labels);
  };
  const gradients = tf.grads(f)(names.map((name) => parameters[name] as tf.Tensor));
  return {
    loss: f(...names.map((name) => parameters[name] as tf.Tensor)),
    logits: plainLogits(images, parameters, model, outputMask),
    gradients: Object.fromEntries(names.map((name, k) => [name, gradients[k] as tf.Tensor])),
  };
}

/**
 * The fast path's loss, logits and every gradient (the same set of them) within TOLERANCE of the
 * plain path's; returns the plain path's result.
 */
function expectFastMatchesPlain(
  images: tf.Tensor3D,
  labels: tf.Tensor1D,
  parameters: Record<string, tf.Tensor>,
  model: ModelConfig,
  outputMask?: tf.Tensor2D,
) {
  const fast = fastLossAndGradients(images, labels, parameters, model, outputMask);
  const plain = plainLossAndGradients(images, labels, parameters, model, outputMask);
  expect(relativeError(fast.loss, plain.loss)).toBeLessThan(TOLERANCE);
  expect(relativeError(fast.logits, plain.logits)).toBeLessThan(TOLERANCE);
  expect(Object.keys(fast.gradients).sort()).toEqual(Object.keys(parameters).sort());
  for (const name of Object.keys(parameters)) {
    expect(relativeError(fast.gradients[name]!, plain.gradients[name]!), name).toBeLessThan(TOLERANCE);
  }
  return plain;
}

/**
 * Under tf.grads, the fast logits' custom gradient (images included) within TOLERANCE of autodiff
 * through the plain logits, for a random weighted sum of the logits of `batch` random images.
 */
function expectLogitGradientsMatchAutodiff(model: ModelConfig, batch: number, seed: number): void {
  tf.tidy(() => {
    const parameters = randomParameters(seed, model);
    const names = Object.keys(parameters);
    const images = tf.tensor3d(randomValues(batch * model.steps * model.inputSize, seededUniform(seed + 1)), [batch, model.steps, model.inputSize]);
    const weights = tf.randomNormal([batch, model.classes], 0, 1, "float32", seed + 2);
    const objective = (forwardPass: typeof fastLogits) => (x: tf.Tensor, ...values: tf.Tensor[]) =>
      tf.sum(tf.mul(forwardPass(x as tf.Tensor3D, Object.fromEntries(names.map((n, k) => [n, values[k]!])), model), weights));
    const inputs = [images, ...names.map((name) => parameters[name]!)];
    const fast = tf.grads(objective(fastLogits))(inputs);
    const plain = tf.grads(objective(plainLogits))(inputs);
    fast.forEach((gradient, k) => expect(relativeError(gradient, plain[k]!), k === 0 ? "images" : names[k - 1]).toBeLessThan(TOLERANCE));
  });
}

describe.each(BACKENDS)("fast LSTM path on %s", (backend) => {
  beforeAll(() => useBackend(backend));

  it.each([1, 2, 5, 33])("matches the plain LSTM's loss, logits and every gradient at batch %i", (batch) => {
    tf.tidy(() => {
      const parameters = randomParameters(100 + batch);
      const uniform = seededUniform(batch);
      // Digits are mostly zero pixels: zeros exercise the sparse paths of the kernels.
      const pixels = randomValues(batch * config.steps * config.inputSize, uniform).map((v) => (v < 0 ? 0 : v));
      const images = tf.tensor3d(pixels, [batch, config.steps, config.inputSize]);
      const labels = tf.tensor1d(Array.from({ length: batch }, (_, k) => (3 * k + 1) % config.classes), "int32");
      expectFastMatchesPlain(images, labels, parameters, config);
    });
  });

  // Dropout on the output layer's input: a random 0/2 mask (rate 0.5), half the units dropped.
  describe.each([1, 2])("with an output mask, %i layer(s)", (layers) => {
    const masked = resolveModelConfig({ ...config, layers });

    it.each([1, 2, 5])("matches the plain LSTM's loss, logits and every gradient at batch %i", (batch) => {
      tf.tidy(() => {
        const parameters = randomParameters(300 + batch, masked);
        const pixels = randomValues(batch * masked.steps * masked.inputSize, seededUniform(batch + 70)).map((v) => (v < 0 ? 0 : v));
        const images = tf.tensor3d(pixels, [batch, masked.steps, masked.inputSize]);
        const labels = tf.tensor1d(Array.from({ length: batch }, (_, k) => (k + 2) % masked.classes), "int32");
        const maskValues = randomValues(batch * masked.hiddenSize, seededUniform(batch + 90)).map((v) => (v < 0 ? 0 : 2));
        expect(maskValues).toContain(0);
        const mask = tf.tensor2d(maskValues, [batch, masked.hiddenSize]);
        const plain = expectFastMatchesPlain(images, labels, parameters, masked, mask);
        // The mask matters: without it the logits are others.
        const unmasked = fastLossAndGradients(images, labels, parameters, masked);
        expect(relativeError(unmasked.logits, plain.logits)).toBeGreaterThan(1e-2);
      });
    });
  });

  // The tutorial copies' output layer h*(W + b): its forward pass, its hand-written backward
  // (dW = h^T dLogits, db = the column sums of dW, dh = dLogits (W + b)^T) and the custom gradient.
  describe.each([1, 2])("with the output bias in the weights, %i layer(s)", (layers) => {
    const inWeights = resolveModelConfig({ ...config, layers, outputBias: "in-weights" });

    it.each([1, 2, 5])("matches the plain LSTM's loss, logits and every gradient at batch %i, with and without an output mask", (batch) => {
      tf.tidy(() => {
        const parameters = randomParameters(400 + batch, inWeights);
        const pixels = randomValues(batch * inWeights.steps * inWeights.inputSize, seededUniform(batch + 110)).map((v) => (v < 0 ? 0 : v));
        const images = tf.tensor3d(pixels, [batch, inWeights.steps, inWeights.inputSize]);
        const labels = tf.tensor1d(Array.from({ length: batch }, (_, k) => (k + 1) % inWeights.classes), "int32");
        const plain = expectFastMatchesPlain(images, labels, parameters, inWeights);
        const maskValues = randomValues(batch * inWeights.hiddenSize, seededUniform(batch + 130)).map((v) => (v < 0 ? 0 : 2));
        expectFastMatchesPlain(images, labels, parameters, inWeights, tf.tensor2d(maskValues, [batch, inWeights.hiddenSize]));
        // The placement matters: the same weights with the bias added give other logits.
        const added = fastLossAndGradients(images, labels, parameters, { ...inWeights, outputBias: "added" });
        expect(relativeError(added.logits, plain.logits)).toBeGreaterThan(1e-2);
      });
    });

    it("gives logits differentiable by tf.grads (images included) that agree with autodiff", () => {
      expectLogitGradientsMatchAutodiff(inWeights, 3, 27);
    });
  });

  describe.each([2, 3])("with %i stacked layers", (layers) => {
    const stacked = resolveModelConfig({ ...config, layers });

    it.each([1, 2, 5])("matches the plain LSTM's loss, logits and every gradient at batch %i", (batch) => {
      tf.tidy(() => {
        const parameters = randomParameters(200 + batch, stacked);
        const pixels = randomValues(batch * stacked.steps * stacked.inputSize, seededUniform(batch + 50)).map((v) => (v < 0 ? 0 : v));
        const images = tf.tensor3d(pixels, [batch, stacked.steps, stacked.inputSize]);
        const labels = tf.tensor1d(Array.from({ length: batch }, (_, k) => (2 * k + 3) % stacked.classes), "int32");
        expectFastMatchesPlain(images, labels, parameters, stacked);
      });
    });

    it("gives logits differentiable by tf.grads (images included) that agree with autodiff", () => {
      expectLogitGradientsMatchAutodiff(stacked, 2, 17);
    });

    it("evaluates without keeping per-step activations", () => {
      const parameters = randomParameters(23, stacked);
      const images = tf.randomUniform([16, stacked.steps, stacked.inputSize]) as tf.Tensor3D;
      const before = tf.memory().numTensors;
      const logits = fastLogits(images, parameters, stacked);
      expect(tf.memory().numTensors).toBe(before + 1);
      const reference = plainLogits(images, parameters, stacked);
      expect(relativeError(logits, reference)).toBeLessThan(TOLERANCE);
      tf.dispose([logits, reference, images, ...Object.values(parameters)]);
    });
  });

  it("matches the plain LSTM on 784 steps of one pixel (MNIST as a pixel sequence)", () => {
    tf.tidy(() => {
      const pixels = resolveModelConfig({ inputSize: 1, steps: 784, hiddenSize: 8, classes: 10 });
      const parameters = randomParameters(11, pixels);
      const values = randomValues(2 * 784, seededUniform(12)).map((v) => (v < 0 ? 0 : v));
      const images = tf.tensor3d(values, [2, 784, 1]);
      const labels = tf.tensor1d([4, 9], "int32");
      expectFastMatchesPlain(images, labels, parameters, pixels);
    });
  });

  it("matches the plain LSTM when a weight gradient sums products over chunks of steps (20 steps x 120 examples: 2400 rows, chunks of 17 and 3 steps)", () => {
    tf.tidy(() => {
      const chunked = resolveModelConfig({ inputSize: 5, steps: 20, hiddenSize: 8, classes: 10 });
      const parameters = randomParameters(13, chunked);
      const images = tf.tensor3d(randomValues(120 * 20 * 5, seededUniform(14)), [120, 20, 5]);
      const labels = tf.tensor1d(Array.from({ length: 120 }, (_, k) => k % 10), "int32");
      expectFastMatchesPlain(images, labels, parameters, chunked);
    });
  });

  it.each([1, 2])("handles a one-step sequence and a hidden size that is not a multiple of 4 (%i layers)", (layers) => {
    tf.tidy(() => {
      const small = resolveModelConfig({ inputSize: 3, steps: 1, hiddenSize: 5, classes: 3, layers });
      const parameters = Object.fromEntries(
        parameterSpecs(small).map(({ name, shape }, k) => [name, tf.randomUniform(shape, -0.7, 0.7, "float32", k)]),
      );
      const images = tf.randomUniform([3, 1, 3], 0, 1, "float32", 9) as tf.Tensor3D;
      const labels = tf.tensor1d([0, 2, 1], "int32");
      const fast = fastLossAndGradients(images, labels, parameters, small);
      const names = Object.keys(parameters);
      const f = (...values: tf.Tensor[]) =>
        softmaxCrossEntropy(plainLogits(images, Object.fromEntries(names.map((n, k) => [n, values[k]!])), small), labels);
      const plain = tf.grads(f)(names.map((name) => parameters[name]!));
      names.forEach((name, k) => expect(relativeError(fast.gradients[name]!, plain[k]!), name).toBeLessThan(TOLERANCE));
    });
  });

  it("gives logits differentiable by tf.grads (images included) that agree with autodiff of the plain LSTM", () => {
    expectLogitGradientsMatchAutodiff(config, 3, 7);
  });

  it("evaluates large batches without keeping per-step activations", () => {
    const parameters = randomParameters(3);
    const images = tf.randomUniform([64, config.steps, config.inputSize]) as tf.Tensor3D;
    const before = tf.memory().numTensors;
    const logits = fastLogits(images, parameters, config);
    expect(tf.memory().numTensors).toBe(before + 1);
    const reference = plainLogits(images, parameters, config);
    expect(relativeError(logits, reference)).toBeLessThan(TOLERANCE);
    tf.dispose([logits, reference, images, ...Object.values(parameters)]);
  });
});

// The fast path must train like the plain one: the same weights, the same real MNIST
// minibatches and Adam, 50 steps, loss by loss. The tutorial's rows of 28 pixels, 32 hidden
// units to keep the plain path's autodiff quick.
describe.each(BACKENDS)("training curve on %s", (backend) => {
  beforeAll(() => useBackend(backend));

  it("matches the plain LSTM's loss at every one of 50 Adam steps on real MNIST, and the weights after them", async () => {
    const model = resolveModelConfig({ hiddenSize: 32, seed: 5 });
    const { train } = await loadMnist();
    const batch = 32;
    const pixels = model.steps * model.inputSize;
    const initial = SequenceClassifier.create(model);
    const copies = () => Object.fromEntries(Object.entries(initial.variables).map(([name, v]) => [name, tf.variable(v.clone(), true, undefined)]));
    const paths = { fast: { weights: copies(), optimizer: tf.train.adam(0.01), losses: [] as number[] }, plain: { weights: copies(), optimizer: tf.train.adam(0.01), losses: [] as number[] } };
    initial.dispose();
    for (let step = 0; step < 50; step++) {
      const start = step * batch;
      const images = tf.tensor3d(Float32Array.from(train.images.subarray(start * pixels, (start + batch) * pixels), (v) => v / 255), [batch, model.steps, model.inputSize]);
      const labels = tf.tensor1d(train.labels.subarray(start, start + batch), "int32");
      for (const [name, path] of Object.entries(paths)) {
        const result = name === "fast" ? fastLossAndGradients(images, labels, path.weights, model) : plainLossAndGradients(images, labels, path.weights, model);
        path.losses.push(result.loss.dataSync()[0]!);
        // tf.train.adam reads gradients by the variables' engine-wide names.
        path.optimizer.applyGradients(Object.entries(result.gradients).map(([key, tensor]) => ({ name: path.weights[key]!.name, tensor })));
        tf.dispose([result.loss, result.logits, ...Object.values(result.gradients)]);
      }
      tf.dispose([images, labels]);
    }
    const { fast, plain } = paths;
    const worstLoss = Math.max(...fast.losses.map((loss, k) => Math.abs(loss - plain.losses[k]!) / plain.losses[k]!));
    expect(worstLoss).toBeLessThan(CURVE_TOLERANCE);
    for (const name of Object.keys(fast.weights)) {
      expect(relativeError(fast.weights[name]!, plain.weights[name]!), name).toBeLessThan(CURVE_TOLERANCE);
    }
    // A real training curve: the last ten losses well under the first.
    expect(fast.losses.slice(-10).reduce((a, b) => a + b) / 10).toBeLessThan(0.75 * fast.losses[0]!);
    for (const path of Object.values(paths)) {
      tf.dispose(Object.values(path.weights));
      path.optimizer.dispose();
    }
    // The plain path's autodiff on cpu takes about 30 s alone, several times that beside the other suites.
  }, 240_000);
});
