import type { Mnist } from "@mnist/data";
import { SequenceClassifier } from "@mnist/rnn";
import { SummaryWriter } from "@mnist/summary";
import { beforeAll, describe, expect, it } from "vitest";
import { combineHooks } from "./hooks.js";
import { firstImages, imagesFrom, realMnist, useBackend } from "./mnist.test-support.js";
import { tensorBoardHooks, type TensorBoardWriter } from "./tensorboard.js";
import { Trainer, type StepEvent } from "./trainer.js";

let mnist: Mnist;

beforeAll(async () => {
  await useBackend("cpu");
  mnist = await realMnist();
});

describe("tensorBoardHooks", () => {
  it("writes the tutorial's scalars with rate and gradient norm, a histogram of every variable, the validations with the best so far and the evaluation", async () => {
    const scalars: [string, number, number][] = [];
    const histograms: [string, number, number][] = [];
    const writer: TensorBoardWriter = {
      scalar: (tag, value, step) => void scalars.push([tag, value, step]),
      histogram: (tag, values, step) => void histograms.push([tag, values.length, step]),
    };
    const model = SequenceClassifier.create({ hiddenSize: 8, seed: 10 });
    const events: StepEvent[] = [];
    const hooks = combineHooks(tensorBoardHooks(writer, model, { histogramStep: 3 }), { onStep: (e) => void events.push(e) });
    const config = { batchSize: 8, trainingIters: 6 * 8 + 1, summaryStep: 2, warmupSteps: 3, clipNorm: 0.3 };
    const trainer = new Trainer(model, firstImages(mnist.train, 64), config, { hooks });
    const { validations } = await trainer.run({ validation: imagesFrom(mnist.train, 1000, 40), validateEvery: 3 });
    const result = await trainer.evaluate(firstImages(mnist.test, 40), "test");

    const summaries = (step: number): [string, number, number][] => {
      const e = events[step - 1] as StepEvent;
      return [["loss", e.loss, step], ["accuracy", e.accuracy, step], ["learning_rate", e.learningRate, step], ["gradient_norm", e.gradientNorm, step]];
    };
    const validation = (k: number): [string, number, number][] => {
      const v = validations[k];
      if (v === undefined) return [];
      const best = Math.max(...validations.slice(0, k + 1).map((w) => w.accuracy));
      return [["validation/accuracy", v.accuracy, v.step], ["validation/loss", v.loss, v.step], ["validation/best_accuracy", best, v.step]];
    };
    expect(validations.map((v) => v.step)).toEqual([3, 6]);
    expect(scalars).toEqual([
      ...summaries(2),
      ...validation(0),
      ...summaries(4),
      ...summaries(6),
      ...validation(1),
      ["test/accuracy", result.accuracy, 6],
      ["test/loss", result.loss, 6],
    ]);
    expect(events.map((e) => e.learningRate).slice(0, 4)).toEqual([0.001 / 3, 0.002 / 3, 0.001, 0.001]);

    const variables = Object.entries(model.variables);
    expect(histograms).toEqual(
      [3, 6].flatMap((step) => variables.map(([name, v]): [string, number, number] => [name, v.size, step])),
    );
    trainer.dispose();
    model.dispose();
  });

  it("fits @mnist/summary's SummaryWriter", async () => {
    const chunks: Uint8Array[] = [];
    const writer = new SummaryWriter((chunk) => void chunks.push(chunk), { flushMillis: 0 });
    const model = SequenceClassifier.create({ hiddenSize: 8, seed: 11 });
    const trainer = new Trainer(model, firstImages(mnist.train, 32), { batchSize: 8, trainingIters: 2 * 8 + 1, summaryStep: 1 }, { hooks: tensorBoardHooks(writer, model, { histogramStep: 2 }) });
    await trainer.run();
    await writer.close();
    const text = new TextDecoder("latin1").decode(Buffer.concat(chunks));
    for (const tag of ["loss", "accuracy", "lstm/kernel", "output/bias"]) expect(text).toContain(tag);
    trainer.dispose();
    model.dispose();
  });
});
