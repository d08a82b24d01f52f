import * as tf from "@tensorflow/tfjs-core";
import { orderedBatches, type MnistSplit } from "@mnist/data";
import { softmaxCrossEntropy, type SequenceClassifier } from "@mnist/rnn";
import { ConfigError } from "./errors.js";

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
  /** Called after each forward pass with the images evaluated so far (the last call: the split's count); awaited when it returns a promise, so a page can repaint; default unset. */
  onProgress?(done: number): void | Promise<void>;
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
  let done = 0;
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
    done += batch.size;
    await options.onProgress?.(done);
  }
  return summarizeEvaluation(confusion, lossSum, (performance.now() - started) / 1000);
}

/**
 * One evaluation of a split from evaluations of its parts (e.g. slices, or the shares of
 * several threads): the confusion matrices add up and the loss is the parts' mean weighted
 * by their image counts, so the counts, accuracies and confusion are exactly those of one
 * evaluation of the whole. `seconds` is the time the whole took, for imagesPerSecond;
 * default the parts' own times added up (parts evaluated one after another).
 */
export function mergeEvaluations(parts: readonly EvaluationResult[], seconds?: number): EvaluationResult {
  const classes = parts[0]?.confusion.length;
  if (classes === undefined) throw new ConfigError("parts", "at least one evaluation to merge", "none");
  const other = parts.find((part) => part.confusion.length !== classes);
  if (other !== undefined) {
    throw new ConfigError("parts", `evaluations of ${classes} classes each`, `one of ${other.confusion.length} classes`, "merge evaluations of the same model");
  }
  const confusion = Array.from({ length: classes }, (_, label) =>
    Array.from({ length: classes }, (_, predicted) => parts.reduce((sum, part) => sum + (part.confusion[label]?.[predicted] ?? 0), 0)),
  );
  const lossSum = parts.reduce((sum, part) => sum + (part.count === 0 ? 0 : part.loss * part.count), 0);
  const partSeconds = parts.reduce((sum, part) => sum + (part.count === 0 ? 0 : part.count / part.imagesPerSecond), 0);
  return summarizeEvaluation(confusion, lossSum, seconds ?? partSeconds);
}

/**
 * The metrics of an evaluation from its confusion matrix (rows: true label, columns:
 * prediction), the summed cross-entropy and its duration; shared by evaluate() and
 * mergeEvaluations() so both report alike.
 */
function summarizeEvaluation(confusion: number[][], lossSum: number, seconds: number): EvaluationResult {
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
