import { toSequences, type Mnist, type SequenceInput } from "@mnist/data";
import { SequenceClassifier, type CellType } from "@mnist/rnn";
import { beforeAll, describe, expect, it } from "vitest";
import { evaluate } from "./evaluate.js";
import { firstImages, realMnist, useBackend } from "./mnist.test-support.js";
import { Trainer } from "./trainer.js";

let mnist: Mnist;

beforeAll(async () => {
  mnist = await realMnist();
  await useBackend("wasm");
});

// The sequential benchmarks take hours at full size; here each mode has to fit 32 real digits
// (learning on a subset), which a model only does if the images really reach it step by step.
// The GRU trains through autodiff, about 9 s per step on 784-pixel sequences, so its pixel mode
// is covered by @mnist/rnn's gradient checks at 784 steps rather than by training here.
// In plain pixel order the ink sits between a hundred blank pixels at either end, which the
// gradient has to cross (the point of that benchmark), so it learns slowest: `lossFactor` is the
// fraction of the starting loss each case must get below.
const cases: { name: string; sequence: SequenceInput; cell: CellType; layers: number; lossFactor: number }[] = [
  { name: "rows, 2 LSTM layers", sequence: { order: "rows" }, cell: "lstm", layers: 2, lossFactor: 0.8 },
  { name: "pixels, LSTM", sequence: { order: "pixels" }, cell: "lstm", layers: 1, lossFactor: 0.97 },
  { name: "permuted pixels, 2 LSTM layers", sequence: { order: "pixels", permute: 3 }, cell: "lstm", layers: 2, lossFactor: 0.8 },
  { name: "rows, 2 GRU layers", sequence: { order: "rows" }, cell: "gru", layers: 2, lossFactor: 0.8 },
];
const steps = 40;

describe("every sequence mode trains", () => {
  it.each(cases)("$name: fits 32 real digits", async ({ sequence, cell, layers, lossFactor }) => {
    const digits = toSequences(firstImages(mnist.train, 32), sequence);
    const model = SequenceClassifier.create({ cell, layers, hiddenSize: 16, steps: digits.rows, inputSize: digits.cols, seed: 1 });
    const trainer = new Trainer(model, digits, { batchSize: 32, learningRate: 0.02, trainingIters: steps * 32 + 1, seed: 1 });
    try {
      const before = await evaluate(model, digits);
      const losses: number[] = [];
      for (let step = 0; step < steps; step++) losses.push((await trainer.step()).loss);
      const after = await evaluate(model, digits);
      expect(model.config).toMatchObject({ steps: sequence.order === "pixels" ? 784 : 28, inputSize: sequence.order === "pixels" ? 1 : 28 });
      expect(after.loss).toBeLessThan(lossFactor * before.loss);
      expect(after.accuracy).toBeGreaterThan(before.accuracy);
      expect(Math.min(...losses.slice(-3))).toBeLessThan(losses[0]!);
    } finally {
      trainer.dispose();
      model.dispose();
    }
  });
});
