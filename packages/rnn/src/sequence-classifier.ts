import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import { resolveModelConfig, type ModelConfig } from "./config.js";
import { softmaxCrossEntropy } from "./cross-entropy.js";
import { InputShapeError, ModelFormatError } from "./errors.js";
import { copyMetadata, type ModelMetadata } from "./metadata.js";
import { applyOutputLayer } from "./output-layer.js";
import { initialParameters, parameterSpecs } from "./parameters.js";
import { fastLastHidden, fastLogits, fastLossAndGradients, fastLstmAvailable } from "./fast-lstm.js";
import { plainLastHidden, plainLogits } from "./plain-forward.js";
import type { ModelSnapshot } from "./snapshot.js";

let modelCount = 0;

/**
 * Variable names are global in a TensorFlow.js engine. The first model alive gets the plain
 * stable names (so optimizer state saved under them reloads in another process); a model created
 * while those are taken gets a "model-<n>/" prefix.
 */
function engineNamePrefix(names: string[]): string {
  const taken = tf.engine().registeredVariables;
  if (names.every((name) => taken[name] === undefined)) return "";
  let prefix: string;
  do prefix = `model-${++modelCount}/`;
  while (names.some((name) => taken[prefix + name] !== undefined));
  return prefix;
}

/**
 * Classifies sequences ([batch, steps, inputs], e.g. images as rows of pixels): a dense
 * projection inputs -> hidden, a recurrent cell over the steps, a dense hidden -> classes on
 * the last hidden state.
 */
export class SequenceClassifier {
  readonly config: ModelConfig;
  /**
   * Trainable variables under stable names ("input/kernel", "lstm/bias", ...). Each variable's
   * engine name (`variable.name`, what optimizers key on) is the same name, or "model-<n>/" + it
   * when another live model already uses the plain names.
   */
  readonly variables: Readonly<Record<string, tf.Variable>>;
  /** The user's metadata (frozen JSON values), saved in model.json as "userDefinedMetadata". */
  readonly metadata: ModelMetadata;

  private constructor(config: ModelConfig, values: ReadonlyMap<string, Float32Array>, metadata: ModelMetadata) {
    this.config = Object.freeze({ ...config });
    this.metadata = metadata;
    const specs = parameterSpecs(config);
    const prefix = engineNamePrefix(specs.map((spec) => spec.name));
    const variables: Record<string, tf.Variable> = {};
    for (const spec of specs) {
      const value = values.get(spec.name) as Float32Array;
      variables[spec.name] = tf.tidy(() => tf.variable(tf.tensor(value, spec.shape, "float32"), true, prefix + spec.name));
    }
    this.variables = Object.freeze(variables);
  }

  /**
   * A new model with seeded Glorot-uniform kernels (orthogonal recurrent blocks if asked) and
   * zero biases, or N(0, 1) input and output layers with denseInit "normal". `metadata` (default {}) is copied; values JSON cannot hold throw ModelMetadataError.
   */
  static create(config: Partial<ModelConfig> = {}, options: { metadata?: ModelMetadata } = {}): SequenceClassifier {
    const resolved = resolveModelConfig(config);
    const metadata = copyMetadata(options.metadata ?? {});
    return new SequenceClassifier(resolved, initialParameters(resolved), metadata);
  }

  /** [batch, steps, inputs] -> [batch, classes] unnormalised log-probabilities; differentiable. */
  logits(images: tf.Tensor3D): tf.Tensor2D {
    this.checkImages(images, "images");
    if (fastLstmAvailable(this.config)) return fastLogits(images, this.variables, this.config);
    return plainLogits(images, this.variables, this.config);
  }

  /**
   * One training computation: the mean softmax cross-entropy of the batch, the logits and the
   * gradient of the loss for every variable (same keys as `variables`). The caller owns and
   * disposes every returned tensor. The LSTM on the cpu and wasm backends takes the fast path
   * (hand-written backward pass, fused kernels; any number of layers); the GRU and other backends use autodiff.
   * `outputMask` [batch, hiddenSize] float32, when given, multiplies the top layer's last hidden
   * state before the output layer, in the loss, the returned logits and the gradients (dropout:
   * the caller puts 0 for a dropped unit, 1 / (1 - rate) for a kept one). logits() and predict()
   * never mask.
   */
  lossAndGradients(
    images: tf.Tensor3D,
    labels: tf.Tensor1D,
    options: { outputMask?: tf.Tensor2D } = {},
  ): { loss: tf.Scalar; logits: tf.Tensor2D; gradients: Record<string, tf.Tensor> } {
    const { outputMask } = options;
    this.checkImages(images, "images");
    this.checkLabels(images, labels);
    if (outputMask !== undefined) this.checkOutputMask(images, outputMask);
    if (fastLstmAvailable(this.config)) return fastLossAndGradients(images, labels, this.variables, this.config, outputMask);
    const names = Object.keys(this.variables);
    const list = names.map((name) => this.variables[name] as tf.Variable);
    let logits: tf.Tensor2D | undefined;
    const { value: loss, grads } = tf.variableGrads(() => {
      logits = tf.keep(plainLogits(images, this.variables, this.config, outputMask));
      return softmaxCrossEntropy(logits, labels);
    }, list);
    const gradients: Record<string, tf.Tensor> = {};
    names.forEach((name, k) => {
      gradients[name] = grads[(list[k] as tf.Variable).name] as tf.Tensor;
    });
    return { loss, logits: logits as tf.Tensor2D, gradients };
  }

  /**
   * [batch, steps, inputs] -> [batch, hiddenSize]: the top layer's hidden state after the last
   * step, the features the output layer classifies (e.g. for an embedding projector).
   */
  lastHidden(images: tf.Tensor3D): tf.Tensor2D {
    this.checkImages(images, "images");
    // The fast path has no gradient of its own for this: under a gradient tape the plain one runs.
    if (fastLstmAvailable(this.config) && !tf.engine().isTapeOn()) return fastLastHidden(images, this.variables, this.config);
    return plainLastHidden(images, this.variables, this.config);
  }

  /**
   * [batch, hiddenSize] -> [batch, classes]: the output layer alone, applied to features such as
   * lastHidden()'s (logits(images) is classify(lastHidden(images)), up to rounding).
   */
  classify(hidden: tf.Tensor2D): tf.Tensor2D {
    const { hiddenSize } = this.config;
    if (hidden.rank !== 2 || hidden.shape[1] !== hiddenSize || hidden.shape[0] === 0) {
      throw new InputShapeError("hidden", `[batch >= 1, ${hiddenSize}] (batch, hiddenSize)`, `[${hidden.shape.join(", ")}]`);
    }
    if (hidden.dtype !== "float32") throw new InputShapeError("hidden", "dtype float32", `dtype ${hidden.dtype}`);
    return applyOutputLayer(hidden, this.variables, this.config);
  }

  /** [batch, steps, inputs] -> [batch, classes] softmax probabilities. */
  predict(images: tf.Tensor3D): tf.Tensor2D {
    return tf.tidy(() => tf.softmax(this.logits(images)));
  }

  /** The config, a copy of every weight's current values and the metadata (what a model file holds). */
  async snapshot(): Promise<ModelSnapshot> {
    const values = new Map<string, Float32Array>();
    for (const [name, variable] of Object.entries(this.variables)) {
      values.set(name, Float32Array.from(await variable.data()));
    }
    return { config: this.config, values, metadata: this.metadata };
  }

  /**
   * A model with a snapshot's config, weights and metadata (from snapshot(), or a model file's
   * reader). The config is checked like create's; every weight must be present with its shape.
   */
  static fromSnapshot(snapshot: ModelSnapshot): SequenceClassifier {
    const config = resolveModelConfig(snapshot.config);
    for (const spec of parameterSpecs(config)) {
      const values = snapshot.values.get(spec.name);
      const expected = spec.shape.reduce((product, size) => product * size, 1);
      if (values === undefined || values.length !== expected) {
        throw new ModelFormatError("ModelSnapshot", `values of ${spec.name}`, `${expected} values (shape [${spec.shape.join(", ")}])`, values === undefined ? "none" : `${values.length}`);
      }
    }
    return new SequenceClassifier(config, snapshot.values, copyMetadata(snapshot.metadata));
  }

  /** Frees the variables; the model cannot be used afterwards. */
  dispose(): void {
    for (const variable of Object.values(this.variables)) variable.dispose();
  }

  private checkImages(images: tf.Tensor, argument: string): void {
    const { steps, inputSize } = this.config;
    const [batch, imageSteps, imageInputs] = images.shape;
    if (images.rank !== 3 || imageSteps !== steps || imageInputs !== inputSize || batch === 0) {
      throw new InputShapeError(argument, `[batch >= 1, ${steps}, ${inputSize}]`, `[${images.shape.join(", ")}]`);
    }
    if (images.dtype !== "float32") throw new InputShapeError(argument, "dtype float32", `dtype ${images.dtype}`);
  }

  private checkLabels(images: tf.Tensor3D, labels: tf.Tensor): void {
    if (labels.rank !== 1 || labels.shape[0] !== images.shape[0]) {
      throw new InputShapeError("labels", `[${images.shape[0]}] (one class id per image)`, `[${labels.shape.join(", ")}]`);
    }
    if (labels.dtype !== "int32") throw new InputShapeError("labels", "dtype int32 class ids", `dtype ${labels.dtype}`);
  }

  private checkOutputMask(images: tf.Tensor3D, mask: tf.Tensor): void {
    const expected = `[${images.shape[0]}, ${this.config.hiddenSize}] (batch, hiddenSize)`;
    if (mask.rank !== 2 || mask.shape[0] !== images.shape[0] || mask.shape[1] !== this.config.hiddenSize) {
      throw new InputShapeError("outputMask", expected, `[${mask.shape.join(", ")}]`);
    }
    if (mask.dtype !== "float32") throw new InputShapeError("outputMask", "dtype float32", `dtype ${mask.dtype}`);
  }
}
