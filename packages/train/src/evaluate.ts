import * as tf from "@tensorflow/tfjs-core";
import { orderedBatches, type MnistSplit } from "@mnist/data";
import { softmaxCrossEntropy, type SequenceClassifier } from "@mnist/rnn";

/** How well a model classifies a whole split. */
export interface EvaluationResult {
  /** Fraction of images whose most probable class is the label. */
  accuracy: number;
  /** Mean softmax cross-entropy over the split. */
  loss: number;
  /** Images evaluated. */
  count: number;
  /** confusion[label][predicted] = number of images. */
  confusion: number[][];
  /** Per label: fraction predicted correctly (NaN for a label with no images). */
  perClassAccuracy: number[];
  /** Evaluation throughput. */
  imagesPerSecond: number;
}

/** Options of evaluate(). */
export interface EvaluateOptions {
  /** Images per forward pass; bounds memory, not the result; default 500. */
  batchSize?: number;
}

/**
 * Runs the model over every image of the split in fixed-size batches so
 * memory stays flat whatever the split size, reading back one small tensor
 * (summed loss and the predicted classes) per batch.
 */
export async function evaluate(
  model: SequenceClassifier,
  split: MnistSplit,
  options: EvaluateOptions = {},
): Promise<EvaluationResult> {
  const started = performance.now();
  const classes = model.config.classes;
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let lossSum = 0;
  for (const batch of orderedBatches(split, options.batchSize ?? 500)) {
    const summary = tf.tidy(() => {
      const images: tf.Tensor3D = tf.tensor3d(batch.images, [batch.size, split.rows, split.cols]); // [batch, steps, inputs]
      const labels = tf.tensor1d(batch.labels, "int32");
      const logits = model.logits(images);
      const loss = softmaxCrossEntropy(logits, labels, "sum");
      const predicted = tf.cast(tf.argMax(logits, 1), "float32");
      return tf.concat([tf.reshape(loss, [1]), predicted]); // [1 + batch]: summed loss, then the predicted classes
    });
    const values = await summary.data();
    summary.dispose();
    lossSum += values[0] ?? Number.NaN;
    for (let i = 0; i < batch.size; i++) {
      const label = batch.labels[i] ?? 0;
      const predicted = values[i + 1] ?? 0;
      const row = confusion[label];
      if (row !== undefined) row[predicted] = (row[predicted] ?? 0) + 1;
    }
  }
  return summarizeEvaluation(confusion, lossSum, (performance.now() - started) / 1000);
}

/**
 * The metrics of an evaluation from its confusion matrix (rows: true label, columns:
 * prediction), the summed cross-entropy and its duration; shared by the single-thread and
 * the worker-thread evaluations so both report alike.
 */
export function summarizeEvaluation(confusion: number[][], lossSum: number, seconds: number): EvaluationResult {
  const count = confusion.reduce((sum, row) => sum + row.reduce((a, n) => a + n, 0), 0);
  const correct = confusion.reduce((sum, row, label) => sum + (row[label] ?? 0), 0);
  return {
    accuracy: count === 0 ? Number.NaN : correct / count,
    loss: count === 0 ? Number.NaN : lossSum / count,
    count,
    confusion,
    perClassAccuracy: confusion.map((row, label) => {
      const total = row.reduce((sum, n) => sum + n, 0);
      return total === 0 ? Number.NaN : (row[label] ?? 0) / total;
    }),
    imagesPerSecond: seconds > 0 ? count / seconds : Number.POSITIVE_INFINITY,
  };
}
