import * as tf from "@tensorflow/tfjs-core";
import type { ModelConfig } from "./config.js";
import { gruStep } from "./gru-cell.js";
import { lstmStep, type LstmState } from "./lstm-cell.js";

export type Parameters = Readonly<Record<string, tf.Tensor>>;

/**
 * Logits of the sequence classifier written step by step with plain ops, so TensorFlow.js
 * autodiff can differentiate it: the GRU trains through this, and the tests use it as the
 * reference the fast LSTM path must match.
 */
export function plainLogits(images: tf.Tensor3D, parameters: Parameters, config: ModelConfig): tf.Tensor2D {
  return tf.tidy(() => {
    const [batch] = images.shape;
    const { steps, inputSize, hiddenSize } = config;
    const flat = tf.reshape(images, [batch * steps, inputSize]); // [batch*steps, inputs]
    const projected = tf.add(
      tf.matMul(flat, parameters["input/kernel"] as tf.Tensor2D),
      parameters["input/bias"] as tf.Tensor1D,
    );
    const sequence = tf.reshape(projected, [batch, steps, hiddenSize]); // [batch, steps, hidden]
    // Slices rather than unstack/split: their gradients fail on a one-step sequence in tfjs 4.22.
    const inputs = Array.from({ length: steps }, (_, step) =>
      tf.reshape(tf.slice(sequence, [0, step, 0], [batch, 1, hiddenSize]), [batch, hiddenSize]) as tf.Tensor2D, // [batch, hidden]
    );
    const last = config.cell === "lstm" ? runLstm(inputs, parameters, config) : runGru(inputs, parameters, config);
    return tf.add(
      tf.matMul(last, parameters["output/kernel"] as tf.Tensor2D),
      parameters["output/bias"] as tf.Tensor1D,
    ) as tf.Tensor2D;
  });
}

function runLstm(inputs: tf.Tensor2D[], parameters: Parameters, config: ModelConfig): tf.Tensor2D {
  const kernel = parameters["lstm/kernel"] as tf.Tensor2D;
  const bias = parameters["lstm/bias"] as tf.Tensor1D;
  const zero = initialState(inputs, config);
  let state: LstmState = { c: zero, h: zero };
  for (const x of inputs) state = lstmStep(x, state, kernel, bias, config.forgetBias);
  return state.h;
}

function runGru(inputs: tf.Tensor2D[], parameters: Parameters, config: ModelConfig): tf.Tensor2D {
  const weights = {
    gateKernel: parameters["gru/gates/kernel"] as tf.Tensor2D,
    gateBias: parameters["gru/gates/bias"] as tf.Tensor1D,
    candidateKernel: parameters["gru/candidate/kernel"] as tf.Tensor2D,
    candidateBias: parameters["gru/candidate/bias"] as tf.Tensor1D,
  };
  let h = initialState(inputs, config);
  for (const x of inputs) h = gruStep(x, h, weights);
  return h;
}

/** Zeros sized from the actual batch, never from a batch size fixed at construction. */
function initialState(inputs: tf.Tensor2D[], config: ModelConfig): tf.Tensor2D {
  const batch = inputs[0]?.shape[0] ?? 0;
  return tf.zeros([batch, config.hiddenSize]);
}
