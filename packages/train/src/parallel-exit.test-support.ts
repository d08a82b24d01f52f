import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { SequenceClassifier } from "@mnist/rnn";
import { Trainer } from "./trainer.js";
import { workerThreads } from "./worker-threads.js";

// Run as a script by worker-threads.test.ts: two parallel steps on random
// digits, then (unless "keep" is given) dispose(). The test checks that the
// process then ends on its own, i.e. no worker thread holds it open.

await tf.setBackend("cpu");
const count = 64;
const images = new Uint8Array(count * 28 * 28).map((_, i) => (i * 7919) % 256);
const labels = new Uint8Array(count).map((_, i) => i % 10);
const model = SequenceClassifier.create({ hiddenSize: 8, seed: 2 });
const trainer = new Trainer(model, { images, labels, count, rows: 28, cols: 28 }, { batchSize: 16 }, { gradients: workerThreads({ threads: 2 }) });
for (let i = 0; i < 2; i++) console.log(`loss ${(await trainer.step()).loss}`);
if (process.argv[2] !== "keep") trainer.dispose();
