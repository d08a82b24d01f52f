import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
// tfjs-layers calls chained tensor methods (tensor.flatten()), which the full
// @tensorflow/tfjs bundle registers but tfjs-core alone does not.
import "@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops";

// The same model built with tf.layers, configured like the tutorial's
// BasicLSTMCell: sigmoid recurrent activation and a unit forget bias.
export class LayersLstm {
  private constructor(private readonly model: tfl.Sequential) {}

  static create(steps: number, inputs: number, hidden: number, classes: number, learningRate: number): LayersLstm {
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ units: hidden, inputShape: [steps, inputs] }),
        tfl.layers.lstm({ units: hidden, recurrentActivation: "sigmoid", unitForgetBias: true }),
        tfl.layers.dense({ units: classes, activation: "softmax" }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(learningRate), loss: "categoricalCrossentropy" });
    return new LayersLstm(model);
  }

  /** One Adam step; resolves to the minibatch loss. */
  async trainStep(images: tf.Tensor3D, oneHot: tf.Tensor2D): Promise<number> {
    const loss = await this.model.trainOnBatch(images, oneHot);
    return Array.isArray(loss) ? loss[0]! : loss;
  }

  dispose(): void {
    this.model.dispose();
  }
}
