import * as tf from "@tensorflow/tfjs-core";
import type { SequenceClassifier } from "@mnist/rnn";
import { dropoutMask, type DropoutSpec } from "./dropout.js";

/** Images and labels of one minibatch (or one thread's share of it). */
export interface MinibatchInput {
  /** Images in this minibatch. */
  size: number;
  /** [size, rows, cols] row-major, pixel/255. */
  images: Float32Array;
  /** [size] class ids. */
  labels: Int32Array;
  /** Dropout on the output layer's input, when training with it; default unset (none). */
  dropout?: DropoutSpec | undefined;
}

/** What one minibatch's forward and backward pass yields; the caller owns `gradients`. */
export interface MinibatchGradients {
  /** Mean cross-entropy over the minibatch. */
  loss: number;
  /** Fraction of the minibatch classified correctly. */
  accuracy: number;
  /** Gradient of the mean loss per variable, keyed like model.variables. */
  gradients: Record<string, tf.Tensor>;
}

/**
 * Forward, backpropagation and one host read of loss and accuracy together.
 * Shared by the calling thread and the worker threads of workerThreads(),
 * so both compute a minibatch the same way.
 */
export async function minibatchGradients(model: SequenceClassifier, input: MinibatchInput): Promise<MinibatchGradients> {
  const { steps, inputSize } = model.config;
  const { stats, gradients } = tf.tidy(() => {
    const images: tf.Tensor3D = tf.tensor3d(input.images, [input.size, steps, inputSize]); // [batch, steps, inputs]
    const labels = tf.tensor1d(input.labels, "int32");
    const { hiddenSize } = model.config;
    const options =
      input.dropout === undefined
        ? {}
        : { outputMask: tf.tensor2d(dropoutMask(input.dropout, input.size, hiddenSize), [input.size, hiddenSize]) }; // [batch, hidden]
    const { loss, logits, gradients } = model.lossAndGradients(images, labels, options);
    const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), labels), "float32"));
    const stats = tf.stack([loss, accuracy]); // [2]: loss, accuracy
    // The model hands these to us; tidy alone would miss a tensor it kept.
    tf.dispose([loss, logits]);
    return { stats, gradients };
  });
  let values: Float32Array;
  try {
    values = (await stats.data()) as Float32Array;
  } catch (error) {
    tf.dispose(gradients);
    throw error;
  } finally {
    stats.dispose();
  }
  return { loss: values[0] ?? Number.NaN, accuracy: values[1] ?? Number.NaN, gradients };
}
