// The typed version of check.mjs: every public type a consumer names must resolve and be precise.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { Batcher, orderedBatches, type Batch, type MnistSplit } from "@mnist/data";
import { loadMnist } from "@mnist/data/node";
import { DEFAULT_MODEL_CONFIG, SequenceClassifier, type ModelConfig } from "@mnist/rnn";
import { SummaryWriter } from "@mnist/summary";
import {
  DEFAULT_TRAIN_CONFIG,
  Trainer,
  evaluate,
  withBudget,
  formatTestLine,
  tensorBoardHooks,
  type EvaluationResult,
  type StepEvent,
  type TrainConfig,
  type TrainHooks,
} from "@mnist/train";
import { checkpointWriter, readCheckpoint } from "@mnist/train/node";

await tf.setBackend("cpu");
const work = await mkdtemp(join(tmpdir(), "full-consumer-ts-"));
try {
  const mnist = await loadMnist();
  const train: MnistSplit = mnist.train;
  const config: Partial<ModelConfig> = { cell: "gru", hiddenSize: 16 };
  const model = SequenceClassifier.create(config);
  assert.equal(model.config.steps, DEFAULT_MODEL_CONFIG.steps);

  const events: StepEvent[] = [];
  const chunks: Uint8Array[] = [];
  const writer = new SummaryWriter((chunk) => void chunks.push(chunk));
  const hooks: TrainHooks = { ...tensorBoardHooks(writer, model), onStep: (e) => void events.push(e) };
  const trainConfig: Partial<TrainConfig> = { batchSize: 16, trainingIters: 16 * 3 + 1, summaryStep: 1 };
  const trainer = new Trainer(model, train, trainConfig, { hooks });
  assert.equal(trainer.config.learningRate, DEFAULT_TRAIN_CONFIG.learningRate);
  await trainer.run({ checkpoint: checkpointWriter(join(work, "checkpoints")) });
  assert.deepEqual(events.map((e) => e.step), [1, 2, 3]);
  await writer.close();
  assert.ok(chunks.length > 0);

  const saved = await readCheckpoint(join(work, "checkpoints"));
  const resumed = new Trainer(saved.model, train, withBudget(saved.config, { trainingIters: 16 * 4 + 1 }), { restored: saved.state });
  const next: StepEvent = await resumed.step();
  assert.equal(next.step, 4);

  const first: Batch = orderedBatches(mnist.test, 100)[Symbol.iterator]().next().value as Batch;
  assert.equal(first.size, 100);
  const few: MnistSplit = { ...mnist.test, count: 100, images: mnist.test.images.subarray(0, 100 * 784), labels: mnist.test.labels.subarray(0, 100) };
  const result: EvaluationResult = await evaluate(resumed.model, few, { batchSize: 50 });
  assert.match(formatTestLine(result.accuracy), /^Testing Accuracy= [01]\.\d{5}$/);

  const typeCheckOnly = () => {
    // @ts-expect-error cell is "lstm" | "gru": the types are real, not any
    SequenceClassifier.create({ cell: "rnn" });
    // @ts-expect-error a Batcher needs a split
    new Batcher();
  };
  void typeCheckOnly;

  resumed.model.dispose();
  resumed.dispose();
  trainer.dispose();
  model.dispose();
  console.log(`full TypeScript: resumed at step ${next.step}, ${formatTestLine(result.accuracy)} on 100 images`);
} finally {
  await rm(work, { recursive: true, force: true });
}
