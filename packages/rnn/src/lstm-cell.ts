import * as tf from "@tensorflow/tfjs-core";

export interface LstmState {
  /** Cell state, [batch, hidden]. */
  c: tf.Tensor2D;
  /** Hidden state (the cell's output), [batch, hidden]. */
  h: tf.Tensor2D;
}

/**
 * One step of a basic LSTM (TF1 BasicLSTMCell semantics): the gates i, j (candidate), f, o
 * come from one product [x | h] * kernel + bias; the forget bias is added here rather than
 * baked into the bias variable, so a zero-initialised bias starts the cell remembering.
 */
export function lstmStep(
  x: tf.Tensor2D, // [batch, inputs]
  state: LstmState,
  kernel: tf.Tensor2D, // [inputs + hidden, 4 * hidden]
  bias: tf.Tensor1D, // [4 * hidden]
  forgetBias: number,
): LstmState {
  return tf.tidy(() => {
    const gates = tf.add(tf.matMul(tf.concat([x, state.h], 1), kernel), bias); // [batch, 4*hidden]
    const [i, j, f, o] = tf.split(gates, 4, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const c = tf.add(
      tf.mul(state.c, tf.sigmoid(tf.add(f, forgetBias))),
      tf.mul(tf.sigmoid(i), tf.tanh(j)),
    ) as tf.Tensor2D;
    const h = tf.mul(tf.tanh(c), tf.sigmoid(o)) as tf.Tensor2D;
    return { c, h };
  });
}
