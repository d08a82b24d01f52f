// Times one training step (loss, gradients, Adam) of the tutorial's model at batch 128:
// SequenceClassifier.lossAndGradients against a straightforward per-step LSTM under autodiff.
// Usage: pnpm --filter @mnist/rnn build && node scripts/time-step.mjs [cpu|wasm ...]
// Kept short on purpose (5 warm-up + 10 timed steps per run): the machine's cores are shared.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { SequenceClassifier } from "../dist/index.js";

const batch = 128;
const warmUp = 5;
const timed = 10;

function straightforwardLoss(images, labels, v) {
  const [, steps, inputSize] = images.shape;
  const hidden = v["input/bias"].shape[0];
  const projected = tf.add(tf.matMul(tf.reshape(images, [-1, inputSize]), v["input/kernel"]), v["input/bias"]);
  const xs = tf.unstack(tf.transpose(tf.reshape(projected, [batch, steps, hidden]), [1, 0, 2]));
  let h = tf.zeros([batch, hidden]);
  let c = tf.zeros([batch, hidden]);
  for (const x of xs) {
    const z = tf.add(tf.matMul(tf.concat([x, h], 1), v["lstm/kernel"]), v["lstm/bias"]);
    const [i, j, f, o] = tf.split(z, 4, 1);
    c = tf.add(tf.mul(c, tf.sigmoid(tf.add(f, 1))), tf.mul(tf.sigmoid(i), tf.tanh(j)));
    h = tf.mul(tf.tanh(c), tf.sigmoid(o));
  }
  const logits = tf.add(tf.matMul(h, v["output/kernel"]), v["output/bias"]);
  return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 10), logits);
}

async function msPerStep(step) {
  for (let k = 0; k < warmUp; k++) await step();
  const start = performance.now();
  for (let k = 0; k < timed; k++) await step();
  return (performance.now() - start) / timed;
}

/**
 * Times the fast step before and after the slow one (A-B-A) and averages its two runs, so that
 * a change of load from other processes during the run affects both sides alike.
 */
async function timeFastAroundSlow(fastLabel, fast, slowLabel, slow) {
  const before = await msPerStep(fast);
  const slowMs = await msPerStep(slow);
  const after = await msPerStep(fast);
  const fastMs = (before + after) / 2;
  const name = tf.getBackend();
  console.log(`${name}: ${fastLabel}: ${fastMs.toFixed(1)} ms/step (${before.toFixed(1)} before, ${after.toFixed(1)} after)`);
  console.log(`${name}: ${slowLabel}: ${slowMs.toFixed(1)} ms/step`);
  return [fastMs, slowMs];
}

for (const backend of process.argv.slice(2).length ? process.argv.slice(2) : ["wasm", "cpu"]) {
  await tf.setBackend(backend);
  await tf.ready();
  const images = tf.randomUniform([batch, 28, 28]);
  const labels = tf.tensor1d(Array.from({ length: batch }, (_, k) => k % 10), "int32");
  const model = SequenceClassifier.create();
  const optimizer = tf.train.adam(0.001);
  const baselineOptimizer = tf.train.adam(0.001);
  const [fast, plain] = await timeFastAroundSlow(
    "SequenceClassifier.lossAndGradients + Adam",
    async () => {
      const { loss, logits, gradients } = model.lossAndGradients(images, labels);
      optimizer.applyGradients(Object.fromEntries(Object.entries(gradients).map(([n, g]) => [model.variables[n].name, g])));
      await loss.data();
      tf.dispose([loss, logits, ...Object.values(gradients)]);
    },
    "straightforward LSTM, autodiff + Adam",
    async () => {
      const loss = baselineOptimizer.minimize(() => straightforwardLoss(images, labels, model.variables), true);
      await loss.data();
      loss.dispose();
    },
  );
  const evalCount = backend === "cpu" ? 2000 : 10000;
  const evalBatch = tf.randomUniform([1000, 28, 28]);
  const start = performance.now();
  for (let done = 0; done < evalCount; done += 1000) {
    const probabilities = model.predict(evalBatch);
    await probabilities.data();
    probabilities.dispose();
  }
  const perSecond = evalCount / ((performance.now() - start) / 1000);
  console.log(`${backend}: speed-up ${(plain / fast).toFixed(1)}x; predict ${perSecond.toFixed(0)} images/s (${evalCount} images, batch 1000)`);
  model.dispose();
  optimizer.dispose();
  baselineOptimizer.dispose();
}
