import * as tf from "@tensorflow/tfjs-core";
import type { Mnist, MnistSplit } from "@mnist/data";
import { SequenceClassifier } from "@mnist/rnn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "./errors.js";
import { evaluate, mergeEvaluations } from "./evaluate.js";
import { firstImages, imagesFrom, realMnist, useBackend } from "./mnist.test-support.js";
import { Trainer } from "./trainer.js";

let mnist: Mnist;
let model: SequenceClassifier;
let heldOut: MnistSplit;

/** Class predictions and mean loss computed apart from evaluate(): one predict() call, then plain loops. */
function independentCount(split: MnistSplit): { confusion: number[][]; loss: number } {
  const probabilities = tf.tidy(() => {
    const pixels = Float32Array.from(split.images, (value) => value / 255);
    return model.predict(tf.tensor3d(pixels, [split.count, split.rows, split.cols])).arraySync();
  });
  const confusion = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
  let loss = 0;
  probabilities.forEach((row, i) => {
    const label = split.labels[i] ?? -1;
    let best = 0;
    row.forEach((p, c) => {
      if (p > (row[best] ?? 0)) best = c;
    });
    const counts = confusion[label] as number[];
    counts[best] = (counts[best] ?? 0) + 1;
    loss -= Math.log(row[label] ?? Number.NaN);
  });
  return { confusion, loss: loss / split.count };
}

beforeAll(async () => {
  await useBackend("cpu");
  mnist = await realMnist();
  // A few steps, so that predictions spread over several classes.
  model = SequenceClassifier.create({ hiddenSize: 16, seed: 9 });
  const trainer = new Trainer(model, firstImages(mnist.train, 2000), { batchSize: 32, learningRate: 0.02 });
  for (let i = 0; i < 25; i++) await trainer.step();
  trainer.dispose();
  heldOut = firstImages(mnist.test, 300);
});

afterAll(() => {
  model.dispose();
});

describe("evaluate", () => {
  it("agrees with an independent count from predict()", async () => {
    const result = await evaluate(model, heldOut, { batchSize: 64 }); // last batch partial: 300 = 4 * 64 + 44
    const reference = independentCount(heldOut);
    expect(result.count).toBe(300);
    expect(result.confusion).toEqual(reference.confusion);
    expect(result.loss).toBeCloseTo(reference.loss, 4);

    const predictedClasses = new Set(result.confusion.flatMap((row) => row.flatMap((n, c) => (n > 0 ? [c] : []))));
    expect(predictedClasses.size).toBeGreaterThan(2);
  });

  it("has rows summing to the label counts and a diagonal matching accuracy", async () => {
    const result = await evaluate(model, heldOut);
    const total = result.confusion.flat().reduce((sum, n) => sum + n, 0);
    expect(total).toBe(heldOut.count);
    result.confusion.forEach((row, label) => {
      const labelCount = heldOut.labels.filter((l) => l === label).length;
      expect(row.reduce((sum, n) => sum + n, 0)).toBe(labelCount);
      expect(result.perClassAccuracy[label]).toBeCloseTo((row[label] ?? 0) / labelCount, 12);
    });
    const diagonal = result.confusion.reduce((sum, row, label) => sum + (row[label] ?? 0), 0);
    expect(result.accuracy).toBe(diagonal / heldOut.count);
    expect(result.imagesPerSecond).toBeGreaterThan(0);
  });

  it("does not depend on the evaluation batch size", async () => {
    const small = await evaluate(model, heldOut, { batchSize: 7 });
    const whole = await evaluate(model, heldOut, { batchSize: 1000 });
    expect(small.confusion).toEqual(whole.confusion);
    expect(small.loss).toBeCloseTo(whole.loss, 5);
  });

  it("calls onProgress after each forward pass with the images done so far, ending at the split's count, and awaits it", async () => {
    const calls: string[] = [];
    const result = await evaluate(model, heldOut, {
      batchSize: 64,
      async onProgress(done) {
        calls.push(`start ${done}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        calls.push(`end ${done}`);
      },
    });
    expect(result.count).toBe(300);
    expect(calls).toEqual([64, 128, 192, 256, 300].flatMap((done) => [`start ${done}`, `end ${done}`]));
  });
});

describe("mergeEvaluations", () => {
  it("merges evaluations of uneven slices into the evaluation of the whole split", async () => {
    const split = firstImages(mnist.test, 1000);
    const whole = await evaluate(model, split, { batchSize: 128 });
    const cuts = [0, 97, 410, 411, 1000];
    const parts = [];
    for (let k = 0; k + 1 < cuts.length; k++) parts.push(await evaluate(model, imagesFrom(split, cuts[k]!, cuts[k + 1]! - cuts[k]!), { batchSize: 128 }));
    const merged = mergeEvaluations(parts);
    expect(merged.count).toBe(1000);
    expect(merged.confusion).toEqual(whole.confusion);
    expect(merged.accuracy).toBe(whole.accuracy);
    expect(merged.perClassAccuracy).toEqual(whole.perClassAccuracy);
    expect(Math.abs(merged.loss - whole.loss) / whole.loss).toBeLessThan(1e-6);
    expect(merged.imagesPerSecond).toBeGreaterThan(0);
    // The parts really differ, so a merge that kept one of them would fail above.
    expect(new Set(parts.map((part) => part.accuracy)).size).toBeGreaterThan(1);
    expect(mergeEvaluations(parts, 2).imagesPerSecond).toBe(500);
  });

  it("rejects nothing to merge and evaluations of different class counts", () => {
    expect(() => mergeEvaluations([])).toThrow(ConfigError);
    const two = { accuracy: 1, loss: 0, count: 1, confusion: [[1, 0], [0, 0]], perClassAccuracy: [1, Number.NaN], imagesPerSecond: 1 };
    const three = { ...two, confusion: [[1, 0, 0], [0, 0, 0], [0, 0, 0]] };
    expect(() => mergeEvaluations([two, three])).toThrow(/2 classes each/);
  });
});
