import * as tf from "@tensorflow/tfjs-core";
import type { ModelConfig } from "./config.js";
import { gruStep } from "./gru-cell.js";
import { lstmStep, type LstmState } from "./lstm-cell.js";
import { applyOutputLayer } from "./output-layer.js";
import { layerPrefix } from "./parameters.js";

export type Parameters = Readonly<Record<string, tf.Tensor>>;

/**
 * Logits of the sequence classifier written step by step with plain ops, so TensorFlow.js
 * autodiff can differentiate it: the GRU (any number of layers) trains through this, and the tests
 * use it as the reference the fast LSTM path must match. `outputMask` [batch, hidden], when
 * given, multiplies the top layer's last h before the output layer (dropout).
 */
export function plainLogits(images: tf.Tensor3D, parameters: Parameters, config: ModelConfig, outputMask?: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const last = plainLastHidden(images, parameters, config); // [batch, hidden]
    const outputInput = outputMask === undefined ? last : (tf.mul(last, outputMask) as tf.Tensor2D);
    return applyOutputLayer(outputInput, parameters, config);
  });
}

/** The top recurrent layer's hidden state after the last step, [batch, hidden]: what the output layer reads. */
export function plainLastHidden(images: tf.Tensor3D, parameters: Parameters, config: ModelConfig): tf.Tensor2D {
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
    let inputs = Array.from({ length: steps }, (_, step) =>
      tf.reshape(tf.slice(sequence, [0, step, 0], [batch, 1, hiddenSize]), [batch, hiddenSize]) as tf.Tensor2D, // [batch, hidden]
    );
    for (let layer = 1; layer <= config.layers; layer++) {
      const prefix = layerPrefix(config.cell, layer);
      inputs = config.cell === "lstm" ? runLstm(inputs, parameters, prefix, config) : runGru(inputs, parameters, prefix, config);
    }
    return inputs[inputs.length - 1] as tf.Tensor2D; // the top layer's last h, [batch, hidden]
  });
}

/** One LSTM layer over the sequence: its h at every step, the next layer's inputs. */
function runLstm(inputs: tf.Tensor2D[], parameters: Parameters, prefix: string, config: ModelConfig): tf.Tensor2D[] {
  const kernel = parameters[`${prefix}/kernel`] as tf.Tensor2D;
  const bias = parameters[`${prefix}/bias`] as tf.Tensor1D;
  const zero = initialState(inputs, config);
  let state: LstmState = { c: zero, h: zero };
  return inputs.map((x) => {
    state = lstmStep(x, state, kernel, bias, config.forgetBias);
    return state.h;
  });
}

/** One GRU layer over the sequence: its h at every step. */
function runGru(inputs: tf.Tensor2D[], parameters: Parameters, prefix: string, config: ModelConfig): tf.Tensor2D[] {
  const weights = {
    gateKernel: parameters[`${prefix}/gates/kernel`] as tf.Tensor2D,
    gateBias: parameters[`${prefix}/gates/bias`] as tf.Tensor1D,
    candidateKernel: parameters[`${prefix}/candidate/kernel`] as tf.Tensor2D,
    candidateBias: parameters[`${prefix}/candidate/bias`] as tf.Tensor1D,
  };
  let h = initialState(inputs, config);
  return inputs.map((x) => (h = gruStep(x, h, weights)));
}

/** Zeros sized from the actual batch, never from a batch size fixed at construction. */
function initialState(inputs: tf.Tensor2D[], config: ModelConfig): tf.Tensor2D {
  const batch = inputs[0]?.shape[0] ?? 0;
  return tf.zeros([batch, config.hiddenSize]);
}
