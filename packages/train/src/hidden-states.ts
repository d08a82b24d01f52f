import * as tf from "@tensorflow/tfjs-core";
import { orderedBatches, type MnistSplit } from "@mnist/data";
import type { SequenceClassifier } from "@mnist/rnn";

/** What the model makes of some images: the features it classifies, and its classes. */
export interface HiddenStates {
  /** Images covered: the first `count` of the split. */
  count: number;
  /** The top layer's last hidden state per image, row-major [count, hiddenSize]. */
  values: Float32Array;
  /** The predicted class per image. */
  predictions: Int32Array;
  /** The label per image. */
  labels: Uint8Array;
}

/**
 * SequenceClassifier.lastHidden() and the predicted class of the first `count` images of
 * `split` (all if fewer), `batchSize` at a time so memory stays bounded on long sequences.
 * The predictions apply the output layer to those same states.
 */
export async function hiddenStates(model: SequenceClassifier, split: MnistSplit, count: number, batchSize = 100): Promise<HiddenStates> {
  const n = Math.min(count, split.count);
  const pixels = split.rows * split.cols;
  const head: MnistSplit = { ...split, count: n, images: split.images.subarray(0, n * pixels), labels: split.labels.subarray(0, n) };
  const { hiddenSize } = model.config;
  const values = new Float32Array(n * hiddenSize);
  const predictions = new Int32Array(n);
  let offset = 0;
  for (const batch of orderedBatches(head, batchSize)) {
    const [hidden, predicted] = tf.tidy(() => {
      const images: tf.Tensor3D = tf.tensor3d(batch.images, [batch.size, split.rows, split.cols]); // [batch, steps, inputs]
      const h = model.lastHidden(images); // [batch, hidden]
      return [h, tf.argMax(model.classify(h), 1)];
    });
    values.set(await hidden.data(), offset * hiddenSize);
    predictions.set(await predicted.data(), offset);
    tf.dispose([hidden, predicted]);
    offset += batch.size;
  }
  return { count: n, values, predictions, labels: Uint8Array.from(head.labels) };
}
