import * as tf from "@tensorflow/tfjs-core";
import type { ModelConfig } from "./config.js";

/**
 * The dense layer hidden -> classes as one product and an optional bias: with outputBias "added",
 * logits = h*W + b; with "in-weights", logits = h*(W + 1 b^T), the bias added to every row of the
 * kernel before the product and nothing after it.
 */
export interface OutputWeights {
  /** W, or W + 1 b^T, [hidden, classes]. */
  kernel: tf.Tensor2D;
  /** b when it is added to the product; undefined when it is in the kernel. */
  bias: tf.Tensor1D | undefined;
}

export function outputWeights(parameters: Readonly<Record<string, tf.Tensor>>, config: ModelConfig): OutputWeights {
  const kernel = parameters["output/kernel"] as tf.Tensor2D; // [hidden, classes]
  const bias = parameters["output/bias"] as tf.Tensor1D; // [classes]
  if (config.outputBias === "added") return { kernel, bias };
  return { kernel: tf.add(kernel, bias) as tf.Tensor2D, bias: undefined }; // [hidden, classes]: b broadcast over the rows
}

/** [batch, hidden] -> [batch, classes]: the output layer applied to the top layer's last h. */
export function applyOutputLayer(
  hidden: tf.Tensor2D,
  parameters: Readonly<Record<string, tf.Tensor>>,
  config: ModelConfig,
): tf.Tensor2D {
  return tf.tidy(() => {
    const { kernel, bias } = outputWeights(parameters, config);
    const logits: tf.Tensor2D = tf.matMul(hidden, kernel); // [batch, classes]
    return bias === undefined ? logits : (tf.add(logits, bias) as tf.Tensor2D);
  });
}
