import * as tf from "@tensorflow/tfjs-core";

export interface GruWeights {
  /** Reset and update gates, [inputs + hidden, 2 * hidden]. */
  gateKernel: tf.Tensor2D;
  /** [2 * hidden] */
  gateBias: tf.Tensor1D;
  /** Candidate state, [inputs + hidden, hidden]. */
  candidateKernel: tf.Tensor2D;
  /** [hidden] */
  candidateBias: tf.Tensor1D;
}

/**
 * One step of a GRU (TF1 GRUCell semantics): r, u = sigmoid([x | h] * Wg + bg),
 * candidate = tanh([x | r*h] * Wc + bc), h' = u*h + (1 - u)*candidate.
 */
export function gruStep(
  x: tf.Tensor2D, // [batch, inputs]
  h: tf.Tensor2D, // [batch, hidden]
  weights: GruWeights,
): tf.Tensor2D {
  return tf.tidy(() => {
    const gates = tf.sigmoid(
      tf.add(tf.matMul(tf.concat([x, h], 1), weights.gateKernel), weights.gateBias),
    ); // [batch, 2*hidden]
    const [r, u] = tf.split(gates, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
    const candidate = tf.tanh(
      tf.add(tf.matMul(tf.concat([x, tf.mul(r, h)], 1), weights.candidateKernel), weights.candidateBias),
    );
    return tf.add(tf.mul(u, h), tf.mul(tf.sub(1, u), candidate)) as tf.Tensor2D;
  });
}
