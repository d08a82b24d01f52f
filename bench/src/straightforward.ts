import * as tf from "@tensorflow/tfjs-core";

// The baseline every TensorFlow.js user would write first: the tutorial's model
// with a per-step concat + matMul LSTM and tfjs autodiff. It exists to give the
// benchmark an honest "before" row; it is deliberately not optimised.
export class StraightforwardLstm {
  private readonly variables: tf.Variable[];

  constructor(
    private readonly inputKernel: tf.Variable, // [inputs, hidden]
    private readonly inputBias: tf.Variable, // [hidden]
    private readonly cellKernel: tf.Variable, // [2*hidden, 4*hidden]
    private readonly cellBias: tf.Variable, // [4*hidden]
    private readonly outputKernel: tf.Variable, // [hidden, classes]
    private readonly outputBias: tf.Variable, // [classes]
    private readonly optimizer: tf.Optimizer,
  ) {
    this.variables = [inputKernel, inputBias, cellKernel, cellBias, outputKernel, outputBias];
  }

  static create(inputs: number, hidden: number, classes: number, learningRate: number): StraightforwardLstm {
    const glorot = (fanIn: number, fanOut: number) => {
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      return tf.variable(tf.randomUniform([fanIn, fanOut], -limit, limit, "float32", 1));
    };
    return new StraightforwardLstm(
      glorot(inputs, hidden),
      tf.variable(tf.zeros([hidden])),
      glorot(2 * hidden, 4 * hidden),
      tf.variable(tf.zeros([4 * hidden])),
      glorot(hidden, classes),
      tf.variable(tf.zeros([classes])),
      tf.train.adam(learningRate),
    );
  }

  private logits(images: tf.Tensor3D): tf.Tensor2D {
    const [batch, , inputs] = images.shape;
    const hiddenSize = this.inputBias.shape[0]!;
    const steps = tf.unstack(images, 1) as tf.Tensor2D[]; // steps x [batch, inputs]
    let h: tf.Tensor2D = tf.zeros([batch, hiddenSize]);
    let c: tf.Tensor2D = tf.zeros([batch, hiddenSize]);
    for (const x of steps) {
      const projected = tf.add(tf.matMul(x.reshape([batch, inputs]), this.inputKernel), this.inputBias);
      const gates = tf.add(tf.matMul(tf.concat([projected, h], 1), this.cellKernel), this.cellBias);
      const [i, j, f, o] = tf.split(gates, 4, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
      c = tf.add(tf.mul(c, tf.sigmoid(tf.add(f, 1))), tf.mul(tf.sigmoid(i), tf.tanh(j)));
      h = tf.mul(tf.tanh(c), tf.sigmoid(o));
    }
    return tf.add(tf.matMul(h, this.outputKernel), this.outputBias);
  }

  /** One Adam step; resolves to the minibatch loss. */
  async trainStep(images: tf.Tensor3D, oneHot: tf.Tensor2D): Promise<number> {
    const loss = this.optimizer.minimize(
      () => tf.losses.softmaxCrossEntropy(oneHot, this.logits(images)) as tf.Scalar,
      true,
      this.variables,
    );
    const value = (await loss!.data())[0]!;
    loss!.dispose();
    return value;
  }

  dispose(): void {
    this.optimizer.dispose();
    for (const variable of this.variables) variable.dispose();
  }
}
