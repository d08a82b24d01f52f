import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, randomValues, useBackend } from "./backends.test-support.js";
import { softmaxCrossEntropy, softmaxCrossEntropyWithGradient } from "./cross-entropy.js";
import { seededUniform } from "./seeded-uniform.js";

const [batch, classes] = [5, 4];

/** The reference, in float64 with loops: -log softmax(row)[label] of each row. */
function plainLosses(logits: number[], labels: number[]): number[] {
  return labels.map((label, b) => {
    const row = logits.slice(b * classes, (b + 1) * classes);
    const max = Math.max(...row);
    return Math.log(row.reduce((sum, v) => sum + Math.exp(v - max), 0)) + max - row[label]!;
  });
}

describe.each(BACKENDS)("softmax cross-entropy on %s", (backend) => {
  beforeAll(() => useBackend(backend));

  // Large logits: a naive softmax would overflow exp; one example per class and a repeated one.
  const logits = randomValues(batch * classes, seededUniform(3), 40);
  const labels = [0, 3, 1, 2, 3];
  const losses = plainLosses(logits, labels);
  const mean = losses.reduce((a, b) => a + b) / batch;

  it("gives the batch's mean and sum of -log softmax(logits)[label]", async () => {
    const [logitsT, labelsT] = [tf.tensor2d(logits, [batch, classes]), tf.tensor1d(labels, "int32")];
    expect((await softmaxCrossEntropy(logitsT, labelsT).data())[0]).toBeCloseTo(mean, 4);
    expect((await softmaxCrossEntropy(logitsT, labelsT, "mean").data())[0]).toBeCloseTo(mean, 4);
    expect((await softmaxCrossEntropy(logitsT, labelsT, "sum").data())[0]).toBeCloseTo(batch * mean, 3);
    expect(mean).toBeGreaterThan(1); // random logits this large are mostly confidently wrong
  });

  it("gives the mean loss's gradient for the logits, checked by central differences of the reference", async () => {
    const { loss, dLogits } = softmaxCrossEntropyWithGradient(tf.tensor2d(logits, [batch, classes]), tf.tensor1d(labels, "int32"));
    expect((await loss.data())[0]).toBeCloseTo(mean, 4);
    const epsilon = 1e-6;
    const meanAt = (k: number, delta: number) => {
      const moved = [...logits];
      moved[k]! += delta;
      return plainLosses(moved, labels).reduce((a, b) => a + b) / batch;
    };
    const expected = logits.map((_, k) => (meanAt(k, epsilon) - meanAt(k, -epsilon)) / (2 * epsilon));
    Array.from(await dLogits.data()).forEach((value, k) => expect(value, `entry ${k}`).toBeCloseTo(expected[k]!, 5));
  });
});
