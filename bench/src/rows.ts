import * as tf from "@tensorflow/tfjs-core";
import { Batcher, toSequences, type MnistSplit } from "@mnist/data";
import { SequenceClassifier } from "@mnist/rnn";
import { Trainer } from "@mnist/train";
import { workerThreads } from "@mnist/train/node";
import { LayersLstm } from "./layers.js";
import { StraightforwardLstm } from "./straightforward.js";

/** The tutorial's model and minibatch, for every row. */
export const MODEL = { steps: 28, inputs: 28, hidden: 128, classes: 10, batch: 128, learningRate: 0.001 };

/** The TensorFlow.js rows, each run in a Node process of this benchmark. */
export type TfjsImplementation = "parallel" | "fast" | "straightforward" | "layers";
/** What a row's process can run: a table row, or the sequential-MNIST step --full times. */
export type RowKind = TfjsImplementation | "pixels";
/** Every row: the TensorFlow.js ones and the same model in PyTorch (bench/pytorch/tutorial_lstm.py). */
export type Implementation = TfjsImplementation | "pytorch";
export const IMPLEMENTATION_NAMES: Record<Implementation, string> = {
  parallel: "fused LSTM, 2 threads (Trainer, workerThreads)",
  fast: "fused LSTM, 1 thread (Trainer)",
  straightforward: "per-step concat+matMul",
  layers: "tf.layers.lstm",
  pytorch: "PyTorch nn.LSTM, OpenBLAS, 1 thread",
};

/** One implementation's training step on the current backend, and how to free it. */
export interface RowStep {
  step(): Promise<void>;
  dispose(): void;
}

export function createRowStep(implementation: RowKind, train: MnistSplit): RowStep {
  if (implementation === "fast" || implementation === "parallel" || implementation === "pixels") {
    // "pixels": sequential MNIST, the same LSTM reading 784 steps of one pixel, on 2 threads.
    const pixels = implementation === "pixels";
    const shape = pixels ? { steps: 784, inputSize: 1 } : {};
    const model = SequenceClassifier.create({ ...shape, hiddenSize: MODEL.hidden, seed: 1 });
    const config = { batchSize: MODEL.batch, learningRate: MODEL.learningRate, seed: 1 };
    const data = pixels ? toSequences(train, { order: "pixels" }) : train;
    const trainer = new Trainer(model, data, config, implementation === "fast" ? {} : { gradients: workerThreads({ threads: 2 }) });
    return {
      step: async () => {
        await trainer.step();
      },
      // A worker thread must stop, or the process stays up.
      dispose: () => trainer.dispose(),
    };
  }
  const batcher = new Batcher(train, { seed: 1 });
  const baseline =
    implementation === "layers"
      ? LayersLstm.create(MODEL.steps, MODEL.inputs, MODEL.hidden, MODEL.classes, MODEL.learningRate)
      : StraightforwardLstm.create(MODEL.inputs, MODEL.hidden, MODEL.classes, MODEL.learningRate);
  return {
    step: async () => {
      const batch = batcher.nextBatch(MODEL.batch);
      const images = tf.tensor3d(batch.images, [batch.size, MODEL.steps, MODEL.inputs]);
      const oneHot = tf.tensor2d(batch.oneHot, [batch.size, MODEL.classes]);
      await baseline.trainStep(images, oneHot);
      images.dispose();
      oneHot.dispose();
    },
    dispose: () => baseline.dispose(),
  };
}
