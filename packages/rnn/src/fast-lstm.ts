import * as tf from "@tensorflow/tfjs-core";
import { FAST_BACKENDS } from "./array-kernel.js";
import type { ModelConfig } from "./config.js";
import { softmaxCrossEntropyWithGradient } from "./cross-entropy.js";
import { backwardStep, cellStep, cellStepWithTanhC, firstInput, hiddenSequence } from "./lstm-kernels.js";
import { product, splitRows, stackRows, stackTransposed } from "./matrix-kernels.js";
import { outputWeights } from "./output-layer.js";
import { layerPrefix, parameterSpecs } from "./parameters.js";
import type { Parameters } from "./plain-forward.js";

/**
 * The LSTM classifier with a hand-written backward pass through time. Same function as
 * plainLogits, computed differently:
 * - the input projection is re-associated into layer 1's gate weights: (x*Win + bin)*Kx =
 *   x*(Win*Kx) + bin*Kx (no non-linearity between them), and stacked with the recurrent rows
 *   and the bias, so each step is one product [h | x_t | 1] * W with a constant W; a stacked
 *   layer n >= 2 runs the same way with layer n - 1's hidden states as its x_t;
 * - one sigmoid for all four gates (the j columns of W are doubled: tanh(j) = 2*sigmoid(2j) - 1),
 *   then the rest of the cell as one fused kernel (lstm-kernels.ts);
 * - backward, top layer first: one [batch, 4H] x [4H, H] product per step, every weight
 *   gradient of a layer from products over chunks of the sequence after its loop, and the
 *   gradient for the layer below at every step from one more; then the chain rule back to
 *   input/kernel and input/bias.
 */

export function fastLstmAvailable(config: ModelConfig): boolean {
  return config.cell === "lstm" && (FAST_BACKENDS as readonly string[]).includes(tf.getBackend());
}

interface LayerWeights {
  /** Rows of the layer's kernel that multiply its input (the projected input in layer 1), [H, 4H]. */
  inputRows: tf.Tensor2D;
  /** Rows of the layer's kernel that multiply h, [H, 4H]. */
  recurrent: tf.Tensor2D;
  /** Gate weights of the sequence the layer reads, [I_l, 4H]: input/kernel * inputRows in
   * layer 1 (re-associated, I_1 = I), inputRows itself above it (I_l = H). */
  inputGates: tf.Tensor2D;
  /** [recurrent; inputGates; gate bias + forget bias] with the j columns doubled,
   * [H + I_l + 1, 4H]: the right operand of every forward step. */
  stepWeights: tf.Tensor2D;
}

/** What one step's backward step reads of its forward step. */
interface StepActivations {
  /** c_t, [batch, H]. */
  c: tf.Tensor2D;
  /** The gate sigmoids i, sigmoid(2j), f, o, [batch, 4H]. */
  gates: tf.Tensor2D;
  /** tanh(c_t), [batch, H]. */
  tanhC: tf.Tensor2D;
}

/** What the backward pass needs of one layer; the forward pass builds it when training. */
interface LayerTape {
  weights: LayerWeights;
  /** h of the last step, [batch, H]. */
  last: tf.Tensor2D;
  /** The input row u_t = [h_{t-1} | x_t | 1] of every step, each [batch, H + I_l + 1]: what the
   * layer's weight-gradient products read. */
  rows: tf.Tensor2D[];
  /** Step 0 first. */
  steps: StepActivations[];
}

/**
 * What a layer's forward run keeps besides its last h:
 * - "last": nothing else (the top layer when no backward pass follows);
 * - "rows": every step's input row u_t, whose heads are the h sequence the layer above reads;
 * - "activations": the rows and every step's activations, all the backward pass needs.
 */
type Keep = "last" | "rows" | "activations";

interface LayerRun {
  /** h_T, [batch, H]. */
  last: tf.Tensor2D;
  /** u_0..u_{steps-1}, each [batch, H + I_l + 1]; empty when keeping "last". */
  rows: tf.Tensor2D[];
  /** Step 0 first; empty unless keeping "activations". */
  activations: StepActivations[];
}

/** The constant step weights of layer `layer` (1-based); layer 1 absorbs the input projection. */
function layerWeights(parameters: Parameters, config: ModelConfig, layer: number): LayerWeights {
  const hidden = config.hiddenSize;
  const prefix = layerPrefix("lstm", layer);
  const kernel = parameters[`${prefix}/kernel`] as tf.Tensor2D;
  const [inputRows, recurrent] = splitRows(kernel, [hidden, hidden]) as [tf.Tensor2D, tf.Tensor2D];
  const forget = tf.tensor1d(new Float32Array(4 * hidden).fill(config.forgetBias, 2 * hidden, 3 * hidden));
  let inputGates = inputRows;
  let bias: tf.Tensor = parameters[`${prefix}/bias`] as tf.Tensor1D; // [4H]
  if (layer === 1) {
    inputGates = product(parameters["input/kernel"] as tf.Tensor2D, inputRows);
    const projectedBias = product(tf.reshape(parameters["input/bias"] as tf.Tensor1D, [1, hidden]), inputRows); // [1, 4H]
    bias = tf.add(projectedBias, bias);
  }
  const gateBias = tf.add(bias, forget);
  const jDoubled = tf.tensor1d(new Float32Array(4 * hidden).fill(1).fill(2, hidden, 2 * hidden));
  const stepWeights = tf.mul(tf.concat([recurrent, inputGates, tf.reshape(gateBias, [1, 4 * hidden])]), jDoubled) as tf.Tensor2D;
  return { inputRows, recurrent, inputGates, stepWeights };
}

/** Runs one layer over its input sequence [batch, steps, I_l]; what it keeps of each step is freed as soon as the next exists. */
function runLayer(sequence: tf.Tensor3D, weights: LayerWeights, config: ModelConfig, keep: Keep): LayerRun {
  const rows: tf.Tensor2D[] = [];
  const activations: StepActivations[] = [];
  let input = firstInput(sequence, config.hiddenSize); // [batch, H + I_l + 1]
  let cell: tf.Tensor2D | undefined;
  for (let step = 0; step < config.steps; step++) {
    const preActivations = product(input, weights.stepWeights);
    const gates = tf.sigmoid(preActivations) as tf.Tensor2D; // [batch, 4H]
    preActivations.dispose();
    const inputs = { gates, cPrev: cell, sequence };
    let next: tf.Tensor2D;
    if (keep === "activations") {
      const out = cellStepWithTanhC(inputs, step);
      activations.push({ c: out.c, gates, tanhC: out.tanhC });
      [cell, next] = [out.c, out.next];
    } else {
      const out = cellStep(inputs, step);
      gates.dispose();
      cell?.dispose();
      [cell, next] = [out.c, out.next];
    }
    if (keep === "last") input.dispose();
    else rows.push(input);
    input = next;
  }
  if (keep !== "activations") cell?.dispose();
  // The last step outputs h_T itself, [batch, H].
  return { last: input, rows, activations };
}

/**
 * Runs every layer, layer 1 on the images and each layer above on the hidden states below, and
 * returns the top layer's last h; when training, also each layer's tape, layer 1 first.
 */
function runLayers(images: tf.Tensor3D, parameters: Parameters, config: ModelConfig, mode: "inference" | "training"): { last: tf.Tensor2D; tapes: LayerTape[] } {
  const tapes: LayerTape[] = [];
  let sequence = images;
  let last: tf.Tensor2D | undefined;
  for (let layer = 1; layer <= config.layers; layer++) {
    const top = layer === config.layers;
    const weights = layerWeights(parameters, config, layer);
    const run = runLayer(sequence, weights, config, mode === "training" ? "activations" : top ? "last" : "rows");
    // The rows hold the layer's x_t: neither the tape nor the layer above needs its sequence.
    if (layer > 1) sequence.dispose();
    if (!top) sequence = hiddenSequence([...run.rows.slice(1), run.last], config.hiddenSize);
    if (mode === "training") tapes.push({ weights, last: run.last, rows: run.rows, steps: run.activations });
    else tf.dispose(run.rows);
    last = run.last;
  }
  return { last: last as tf.Tensor2D, tapes };
}

/** runLayers, then the output layer on the top layer's last h times `outputMask` when one is given (dropout). */
function forward(
  images: tf.Tensor3D,
  parameters: Parameters,
  config: ModelConfig,
  mode: "inference" | "training",
  outputMask?: tf.Tensor2D,
): { logits: tf.Tensor2D; tapes: LayerTape[] } {
  const { last, tapes } = runLayers(images, parameters, config, mode);
  const output = outputWeights(parameters, config);
  const scores = product(outputInput(last, outputMask), output.kernel); // [batch, classes]
  const logits = output.bias === undefined ? scores : (tf.add(scores, output.bias) as tf.Tensor2D);
  return { logits, tapes };
}

/**
 * The top layer's last hidden state [batch, H] through the fast path, keeping no per-step
 * activations: for inference only (it has no gradient).
 */
export function fastLastHidden(images: tf.Tensor3D, parameters: Parameters, config: ModelConfig): tf.Tensor2D {
  return tf.tidy(() => runLayers(images, parameters, config, "inference").last);
}

/** What the output layer reads: the top layer's last h, masked when a mask is given, [batch, H]. */
function outputInput(last: tf.Tensor2D, outputMask: tf.Tensor2D | undefined): tf.Tensor2D {
  return outputMask === undefined ? last : (tf.mul(last, outputMask) as tf.Tensor2D);
}

/**
 * Rows of the sequence (steps x batch) per weight-gradient product. XNNPACK's product streams
 * its whole shared dimension for every tile of the output, so one product over a 784-step
 * sequence (50176 rows) runs from memory at a third of the pace of products over 2048 rows
 * summed; a 28-step sequence at batch 64 (1792 rows) stays one product.
 */
const GRADIENT_CHUNK_ROWS = 2048;

/**
 * d[recurrent; inputGates; gate bias] = sum over steps of u_t^T dz_t, computed transposed: as
 * dZ^T * U, per chunk of steps, then transposed back, [H + I_l + 1, 4H]. The backend packs the
 * right operand of every product afresh (it is new each time), and packing U [rows, H + I_l + 1]
 * costs a third of packing dZ [rows, 4H]: the tutorial's share of this product takes 19 ms
 * instead of 30.
 */
function stackedWeightGradient(rows: readonly tf.Tensor2D[], dz: readonly tf.Tensor2D[]): tf.Tensor2D {
  const batch = rows[0]?.shape[0] as number;
  const chunkSteps = Math.max(1, Math.floor(GRADIENT_CHUNK_ROWS / batch));
  const parts: tf.Tensor2D[] = [];
  for (let start = 0; start < rows.length; start += chunkSteps) {
    const end = Math.min(start + chunkSteps, rows.length);
    parts.push(product(stackTransposed(dz.slice(start, end)), stackRows(rows.slice(start, end))));
  }
  return tf.transpose(parts.length === 1 ? (parts[0] as tf.Tensor2D) : tf.addN(parts));
}

/**
 * Backpropagation through time in one layer, given dL/dh of the last step from the output layer
 * (top layer only) and dL/dh_t from the layer above at every step (other layers). Returns the
 * gradients of the stacked step weights [recurrent; inputGates; gate bias] (unscaled j) and
 * dL/d(pre-activations) of every step, [batch, 4H] each, step 0 first.
 */
function layerBackward(
  tape: LayerTape,
  dLast: tf.Tensor2D | undefined, // [batch, H]
  dAbove: tf.Tensor2D[] | undefined, // per step [batch, H]
): { dStacked: tf.Tensor2D; dz: tf.Tensor2D[] } {
  const steps = tape.steps.length;
  const recurrentT = tf.transpose(tape.weights.recurrent); // [4H, H]
  const dz = new Array<tf.Tensor2D>(steps);
  let dh = dLast;
  let dcNext: tf.Tensor2D | undefined;
  for (let step = steps - 1; step >= 0; step--) {
    const { gates, tanhC } = tape.steps[step] as StepActivations;
    const out = backwardStep({ dh, dhAbove: dAbove?.[step], gates, tanhC, cPrev: tape.steps[step - 1]?.c, dcNext });
    dz[step] = out.dz;
    dcNext = out.dcPrev;
    if (step > 0) dh = product(out.dz, recurrentT);
  }
  return { dStacked: stackedWeightGradient(tape.rows, dz), dz };
}

/**
 * Gradients of every variable given dL/dlogits and the forward pass's output mask, and
 * layer 1's dL/d(pre-activations) of every step (for imagesGradient).
 */
function backward(
  tapes: LayerTape[],
  dLogits: tf.Tensor2D, // [batch, classes]
  parameters: Parameters,
  config: ModelConfig,
  outputMask?: tf.Tensor2D, // [batch, H]
): { gradients: Record<string, tf.Tensor>; dz: tf.Tensor2D[] } {
  const { steps, inputSize, hiddenSize: hidden } = config;
  const top = tapes[tapes.length - 1] as LayerTape;
  // logits = u*K (+ b): dK = u^T * dLogits. With the bias in the weights, K = W + 1 b^T, so
  // dW = dK and db = the column sums of dK (b is in every row); added, db = the column sums of dLogits.
  const output = outputWeights(parameters, config);
  const dKernel = product(tf.transpose(outputInput(top.last, outputMask)), dLogits); // [H, classes]
  const gradients: Record<string, tf.Tensor> = {
    "output/kernel": dKernel,
    "output/bias": tf.sum(output.bias === undefined ? dKernel : dLogits, 0),
  };
  const batch = top.last.shape[0];
  const dOutputInput = product(dLogits, tf.transpose(output.kernel)); // [batch, H]
  let dLast: tf.Tensor2D | undefined = outputMask === undefined ? dOutputInput : (tf.mul(dOutputInput, outputMask) as tf.Tensor2D);
  let dAbove: tf.Tensor2D[] | undefined;
  for (let layer = config.layers; layer >= 2; layer--) {
    const tape = tapes[layer - 1] as LayerTape;
    const { dStacked, dz } = layerBackward(tape, dLast, dAbove);
    const [dRecurrent, dInputRows, dBias] = splitRows(dStacked, [hidden, hidden, 1]) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const prefix = layerPrefix("lstm", layer);
    gradients[`${prefix}/kernel`] = tf.concat([dInputRows, dRecurrent]);
    gradients[`${prefix}/bias`] = tf.reshape(dBias, [4 * hidden]);
    const dBelow = product(stackRows(dz), tf.transpose(tape.weights.inputRows)); // [steps*batch, H], step-major
    dAbove = splitRows(dBelow, new Array<number>(steps).fill(batch));
    dLast = undefined;
  }
  const first = tapes[0] as LayerTape;
  const { dStacked, dz } = layerBackward(first, dLast, dAbove);
  const [dRecurrent, dInputGatesAndBias] = splitRows(dStacked, [hidden, inputSize + 1]) as [tf.Tensor2D, tf.Tensor2D];
  const dBias = splitRows(dInputGatesAndBias, [inputSize, 1])[1] as tf.Tensor2D; // [1, 4H]
  // Chain rule through inputGates = Win*Kx and gateBias = bin*Kx + b: with P = [Win; bin],
  // dP = d[inputGates; gateBias] * Kx^T and dKx = P^T * d[inputGates; gateBias].
  const projection = tf.concat([
    parameters["input/kernel"] as tf.Tensor2D,
    tf.reshape(parameters["input/bias"] as tf.Tensor1D, [1, hidden]),
  ]) as tf.Tensor2D; // [I + 1, H]
  const dProjection = product(dInputGatesAndBias, tf.transpose(first.weights.inputRows)); // [I + 1, H]
  const [dInputKernel, dInputBias] = splitRows(dProjection, [inputSize, 1]) as [tf.Tensor2D, tf.Tensor2D];
  gradients["input/kernel"] = dInputKernel;
  gradients["input/bias"] = tf.reshape(dInputBias, [hidden]);
  gradients["lstm/kernel"] = tf.concat([product(tf.transpose(projection), dInputGatesAndBias), dRecurrent]);
  gradients["lstm/bias"] = tf.reshape(dBias, [4 * hidden]);
  return { gradients, dz };
}

/** dL/dimages [batch, steps, I] from layer 1's dL/d(pre-activations) of every step ([batch, 4H] each). */
function imagesGradient(dz: tf.Tensor2D[], first: LayerTape, config: ModelConfig): tf.Tensor3D {
  const { steps, inputSize } = config;
  const batch = first.last.shape[0];
  const dInputs = product(stackRows(dz), tf.transpose(first.weights.inputGates)); // [steps*batch, I]
  return tf.transpose(tf.reshape(dInputs, [steps, batch, inputSize]), [1, 0, 2]) as tf.Tensor3D; // [batch, steps, I]
}

/** Loss, logits and gradients of one batch; `outputMask` [batch, H] multiplies the top layer's last h before the output layer. */
export function fastLossAndGradients(
  images: tf.Tensor3D,
  labels: tf.Tensor1D,
  parameters: Parameters,
  config: ModelConfig,
  outputMask?: tf.Tensor2D,
): { loss: tf.Scalar; logits: tf.Tensor2D; gradients: Record<string, tf.Tensor> } {
  return tf.tidy(() => {
    const { logits, tapes } = forward(images, parameters, config, "training", outputMask);
    const { loss, dLogits } = softmaxCrossEntropyWithGradient(logits, labels);
    const { gradients } = backward(tapes, dLogits, parameters, config, outputMask);
    return { loss, logits, gradients };
  });
}

/** The tensors of a layer's tape, in the order `unflattenTape` reads them back. */
function flattenTape(tape: LayerTape): tf.Tensor[] {
  const { inputRows, recurrent, inputGates, stepWeights } = tape.weights;
  return [tape.last, ...tape.rows, ...tape.steps.flatMap(({ c, gates, tanhC }) => [c, gates, tanhC]), inputRows, recurrent, inputGates, stepWeights];
}

function unflattenTape(take: (count: number) => tf.Tensor2D[], steps: number): LayerTape {
  const [last] = take(1) as [tf.Tensor2D];
  const rows = take(steps);
  const activations = Array.from({ length: steps }, () => {
    const [c, gates, tanhC] = take(3) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    return { c, gates, tanhC };
  });
  const [inputRows, recurrent, inputGates, stepWeights] = take(4) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
  return { last, rows, steps: activations, weights: { inputRows, recurrent, inputGates, stepWeights } };
}

/**
 * Logits through the fast path. Under a gradient tape (tf.grads, optimizer.minimize) it is one
 * custom-gradient op whose gradient is the hand-written backward pass; otherwise no activations
 * are kept, so large evaluation batches need little memory.
 */
export function fastLogits(images: tf.Tensor3D, parameters: Parameters, config: ModelConfig): tf.Tensor2D {
  if (!tf.engine().isTapeOn()) return tf.tidy(() => forward(images, parameters, config, "inference").logits);
  const names = parameterSpecs(config).map((spec) => spec.name);
  const differentiable = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const inputs = args.slice(0, -1) as tf.Tensor[];
    const own: Record<string, tf.Tensor> = {};
    names.forEach((name, k) => (own[name] = inputs[k + 1] as tf.Tensor));
    const { logits, tapes } = forward(inputs[0] as tf.Tensor3D, own, config, "training");
    save([...tapes.flatMap(flattenTape), ...names.map((n) => own[n] as tf.Tensor)]);
    return {
      value: logits,
      gradFunc: (dy: tf.Tensor, kept: tf.Tensor[]) => {
        // Read a copy: the engine disposes the tensors it holds in `kept` after backprop.
        const queue = [...kept];
        const take = (count: number) => queue.splice(0, count) as tf.Tensor2D[];
        const keptTapes = Array.from({ length: config.layers }, () => unflattenTape(take, config.steps));
        const keptParameters: Record<string, tf.Tensor> = {};
        names.forEach((name, k) => (keptParameters[name] = queue[k] as tf.Tensor));
        const { gradients, dz } = backward(keptTapes, dy as tf.Tensor2D, keptParameters, config);
        const dImages = imagesGradient(dz, keptTapes[0] as LayerTape, config);
        return [dImages, ...names.map((name) => gradients[name] as tf.Tensor)];
      },
    };
  });
  return differentiable(images, ...names.map((name) => parameters[name] as tf.Tensor)) as tf.Tensor2D;
}
