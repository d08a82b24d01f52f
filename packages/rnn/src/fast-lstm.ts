import * as tf from "@tensorflow/tfjs-core";
import type { ModelConfig } from "./config.js";
import {
  FAST_BACKENDS,
  KERNEL_BACKWARD_STEP,
  KERNEL_CPU_MAT_MUL,
  KERNEL_CELL_STEP,
  KERNEL_FIRST_INPUT,
  KERNEL_HIDDEN_SEQUENCE,
  KERNEL_ROW_BLOCKS,
  KERNEL_STACK_SEQUENCE,
  registerLstmKernels,
} from "./lstm-kernels.js";
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
 *   gradient of a layer from one product over the whole sequence after its loop, and the
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

interface LayerPass {
  /** h of the last step, [batch, H]. */
  last: tf.Tensor2D;
  /** The input row [h_{t-1} | x_t | 1] of every step transposed, [H + I_l + 1, steps*batch],
   * columns step-major (only when saving). */
  inputsT: tf.Tensor2D | undefined;
  /** c_t of every step (only when saving), [batch, H]. */
  c: tf.Tensor2D[];
  /** The gate sigmoids of every step, i, sigmoid(2j), f, o (only when saving), [batch, 4H]. */
  gates: tf.Tensor2D[];
  /** tanh(c_t) of every step (only when saving), [batch, H]. */
  tanhC: tf.Tensor2D[];
  weights: LayerWeights;
}

interface ForwardPass {
  logits: tf.Tensor2D;
  /** Layer 1 first. */
  layers: LayerPass[];
}

/** Consecutive row blocks of a matrix, e.g. the input and recurrent rows of lstm/kernel. */
function splitRows(x: tf.Tensor2D, rows: number[]): tf.Tensor2D[] {
  return tf.engine().runKernel(KERNEL_ROW_BLOCKS, { x }, { rows }) as tf.Tensor2D[];
}

/** a x b; on cpu through our register-blocked kernel, elsewhere the backend's own. */
function product(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (tf.getBackend() === "cpu") return tf.engine().runKernel(KERNEL_CPU_MAT_MUL, { a, b }) as tf.Tensor2D;
  return tf.matMul(a, b);
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

/**
 * Runs one layer over its input sequence [batch, steps, I_l]. Without `save` each step's state
 * is freed as soon as the next exists. With `keepRows` it also returns every step's input row
 * after the first, u_1..u_{steps-1}: their heads are the h sequence the layer above reads.
 */
function runLayer(
  sequence: tf.Tensor3D,
  weights: LayerWeights,
  config: ModelConfig,
  save: boolean,
  keepRows: boolean,
): { pass: LayerPass; rows: tf.Tensor2D[] } {
  const { steps, hiddenSize: hidden } = config;
  const rows: tf.Tensor2D[] = [];
  const c: tf.Tensor2D[] = [];
  const gates: tf.Tensor2D[] = [];
  const tanhC: tf.Tensor2D[] = [];
  const [first, inputsT] = tf.engine().runKernel(KERNEL_FIRST_INPUT, { images: sequence }, { hidden, save }) as tf.Tensor2D[];
  let input = first as tf.Tensor2D; // [batch, H + I_l + 1]
  let cell: tf.Tensor2D | undefined;
  for (let step = 0; step < steps; step++) {
    const preActivations = product(input, weights.stepWeights);
    const stepGates = tf.sigmoid(preActivations) as tf.Tensor2D; // [batch, 4H]
    preActivations.dispose();
    const kernelInputs: tf.NamedTensorMap = { images: sequence, gates: stepGates };
    if (cell !== undefined) kernelInputs.cPrev = cell;
    if (inputsT !== undefined) kernelInputs.inputsT = inputsT; // written in place: the step adds its h_t (see lstm-kernels.ts)
    const outputs = tf.engine().runKernel(KERNEL_CELL_STEP, kernelInputs, { step, save }) as tf.Tensor2D[];
    const [cNew, next, tanhCNew] = outputs as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D?];
    if (save) {
      c.push(cNew);
      gates.push(stepGates);
      tanhC.push(tanhCNew as tf.Tensor2D);
    } else {
      stepGates.dispose();
      cell?.dispose();
    }
    if (keepRows && step > 0) rows.push(input);
    else input.dispose();
    input = next;
    cell = cNew;
  }
  if (!save) tf.dispose(cell as tf.Tensor2D);
  // The last step outputs h_T itself, [batch, H].
  return { pass: { last: input, inputsT, c, gates, tanhC, weights }, rows };
}

/** The layer's h at every step, [batch, steps, H]: h_t is the head of u_{t+1}, h_T is `last`. */
function hiddenStates(rows: tf.Tensor2D[], last: tf.Tensor2D, config: ModelConfig): tf.Tensor3D {
  const { steps, hiddenSize: hidden } = config;
  const named: tf.NamedTensorMap = { [`h${steps - 1}`]: last };
  for (let t = 0; t < steps - 1; t++) named[`h${t}`] = rows[t] as tf.Tensor2D;
  return tf.engine().runKernel(KERNEL_HIDDEN_SEQUENCE, named, { steps, hidden }) as tf.Tensor3D;
}

/**
 * Runs every layer, layer 1 on the images and each layer above on the hidden states below; the
 * output layer reads the top layer's last h times `outputMask` when one is given (dropout).
 */
function forward(images: tf.Tensor3D, parameters: Parameters, config: ModelConfig, save: boolean, outputMask?: tf.Tensor2D): ForwardPass {
  registerLstmKernels();
  const layers: LayerPass[] = [];
  let sequence = images;
  for (let layer = 1; layer <= config.layers; layer++) {
    const top = layer === config.layers;
    const { pass, rows } = runLayer(sequence, layerWeights(parameters, config, layer), config, save, !top);
    if (layer > 1) sequence.dispose(); // the layer's inputsT holds what backward needs of it
    if (!top) {
      sequence = hiddenStates(rows, pass.last, config);
      tf.dispose(rows);
    }
    layers.push(pass);
  }
  const last = (layers[layers.length - 1] as LayerPass).last; // [batch, H]
  const logits = tf.add(
    product(outputInput(last, outputMask), parameters["output/kernel"] as tf.Tensor2D),
    parameters["output/bias"] as tf.Tensor1D,
  ) as tf.Tensor2D;
  return { logits, layers };
}

/** What the output layer reads: the top layer's last h, masked when a mask is given, [batch, H]. */
function outputInput(last: tf.Tensor2D, outputMask: tf.Tensor2D | undefined): tf.Tensor2D {
  return outputMask === undefined ? last : (tf.mul(last, outputMask) as tf.Tensor2D);
}

/**
 * Backpropagation through time in one layer, given dL/dh of the last step from the output layer
 * (top layer only) and dL/dh_t from the layer above at every step (other layers). Returns the
 * gradients of the stacked step weights [recurrent; inputGates; gate bias] (unscaled j) and
 * dL/d(pre-activations) of the whole sequence, step-major [steps*batch, 4H].
 */
function layerBackward(
  pass: LayerPass,
  dLast: tf.Tensor2D | undefined, // [batch, H]
  dAbove: tf.Tensor2D[] | undefined, // per step [batch, H]
  config: ModelConfig,
): { dStacked: tf.Tensor2D; dZ: tf.Tensor2D } {
  const { steps } = config;
  const recurrentT = tf.transpose(pass.weights.recurrent); // [4H, H]
  let dh = dLast;
  let dcNext: tf.Tensor2D | undefined;
  const sequence: tf.NamedTensorMap = {};
  for (let step = steps - 1; step >= 0; step--) {
    const inputs: tf.NamedTensorMap = { gates: pass.gates[step] as tf.Tensor2D, tanhC: pass.tanhC[step] as tf.Tensor2D };
    if (dh !== undefined) inputs.dh = dh;
    if (dAbove !== undefined) inputs.dhAbove = dAbove[step] as tf.Tensor2D;
    if (step > 0) inputs.cPrev = pass.c[step - 1] as tf.Tensor2D;
    if (dcNext !== undefined) inputs.dcNext = dcNext;
    const [dz, dcPrev] = tf.engine().runKernel(KERNEL_BACKWARD_STEP, inputs, {}) as tf.Tensor2D[];
    sequence[`dz${step}`] = dz as tf.Tensor2D;
    dcNext = dcPrev;
    if (step > 0) dh = product(dz as tf.Tensor2D, recurrentT);
  }
  const dZ = tf.engine().runKernel(KERNEL_STACK_SEQUENCE, sequence, { steps }) as tf.Tensor2D;
  return { dStacked: product(pass.inputsT as tf.Tensor2D, dZ), dZ };
}

/** Gradients of every variable (and, if asked, of the images) given dL/dlogits and the forward pass's output mask. */
function backward(
  pass: Omit<ForwardPass, "logits">,
  dLogits: tf.Tensor2D, // [batch, classes]
  parameters: Parameters,
  config: ModelConfig,
  withImages: boolean,
  outputMask?: tf.Tensor2D, // [batch, H]
): { gradients: Record<string, tf.Tensor>; dImages?: tf.Tensor3D } {
  const { steps, inputSize, hiddenSize: hidden } = config;
  const top = pass.layers[pass.layers.length - 1] as LayerPass;
  const gradients: Record<string, tf.Tensor> = {
    "output/kernel": product(tf.transpose(outputInput(top.last, outputMask)), dLogits),
    "output/bias": tf.sum(dLogits, 0),
  };
  const batch = top.last.shape[0];
  const dOutputInput = product(dLogits, tf.transpose(parameters["output/kernel"] as tf.Tensor2D)); // [batch, H]
  let dLast: tf.Tensor2D | undefined = outputMask === undefined ? dOutputInput : (tf.mul(dOutputInput, outputMask) as tf.Tensor2D);
  let dAbove: tf.Tensor2D[] | undefined;
  for (let layer = config.layers; layer >= 2; layer--) {
    const { weights } = pass.layers[layer - 1] as LayerPass;
    const { dStacked, dZ } = layerBackward(pass.layers[layer - 1] as LayerPass, dLast, dAbove, config);
    const [dRecurrent, dInputRows, dBias] = splitRows(dStacked, [hidden, hidden, 1]) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const prefix = layerPrefix("lstm", layer);
    gradients[`${prefix}/kernel`] = tf.concat([dInputRows, dRecurrent]);
    gradients[`${prefix}/bias`] = tf.reshape(dBias, [4 * hidden]);
    const dBelow = product(dZ, tf.transpose(weights.inputRows)); // [steps*batch, H], step-major
    dAbove = splitRows(dBelow, new Array<number>(steps).fill(batch));
    dLast = undefined;
  }
  const first = pass.layers[0] as LayerPass;
  const { dStacked, dZ } = layerBackward(first, dLast, dAbove, config);
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
  if (!withImages) return { gradients };
  const dInputs = product(dZ, tf.transpose(first.weights.inputGates)); // [steps*batch, I]
  const dImages = tf.transpose(tf.reshape(dInputs, [steps, batch, inputSize]), [1, 0, 2]) as tf.Tensor3D; // [batch, steps, I]
  return { gradients, dImages };
}

/** Mean softmax cross-entropy and its gradient for the logits. */
function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, classes: number): { loss: tf.Scalar; dLogits: tf.Tensor2D } {
  const [batch] = logits.shape;
  const oneHot = tf.oneHot(labels, classes); // [batch, classes]
  const logProbabilities = tf.logSoftmax(logits);
  const loss = tf.neg(tf.mean(tf.sum(tf.mul(oneHot, logProbabilities), 1))) as tf.Scalar;
  const dLogits = tf.div(tf.sub(tf.exp(logProbabilities), oneHot), batch) as tf.Tensor2D;
  return { loss, dLogits };
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
    const pass = forward(images, parameters, config, true, outputMask);
    const { loss, dLogits } = crossEntropy(pass.logits, labels, config.classes);
    const { gradients } = backward(pass, dLogits, parameters, config, false, outputMask);
    return { loss, logits: pass.logits, gradients };
  });
}

/** The tensors of one layer's pass, in the order `unflattenLayer` reads them back. */
function flattenLayer(pass: LayerPass): tf.Tensor[] {
  const { inputRows, recurrent, inputGates, stepWeights } = pass.weights;
  return [pass.last, pass.inputsT as tf.Tensor2D, ...pass.c, ...pass.gates, ...pass.tanhC, inputRows, recurrent, inputGates, stepWeights];
}

function unflattenLayer(take: (count: number) => tf.Tensor2D[], steps: number): LayerPass {
  const [last, inputsT] = take(2) as [tf.Tensor2D, tf.Tensor2D];
  const c = take(steps);
  const gates = take(steps);
  const tanhC = take(steps);
  const [inputRows, recurrent, inputGates, stepWeights] = take(4) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
  return { last, inputsT, c, gates, tanhC, weights: { inputRows, recurrent, inputGates, stepWeights } };
}

/**
 * Logits through the fast path. Under a gradient tape (tf.grads, optimizer.minimize) it is one
 * custom-gradient op whose gradient is the hand-written backward pass; otherwise no activations
 * are kept, so large evaluation batches need little memory.
 */
export function fastLogits(images: tf.Tensor3D, parameters: Parameters, config: ModelConfig): tf.Tensor2D {
  if (!tf.engine().isTapeOn()) return tf.tidy(() => forward(images, parameters, config, false).logits);
  const names = parameterSpecs(config).map((spec) => spec.name);
  const differentiable = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const inputs = args.slice(0, -1) as tf.Tensor[];
    const own: Record<string, tf.Tensor> = {};
    names.forEach((name, k) => (own[name] = inputs[k + 1] as tf.Tensor));
    const pass = forward(inputs[0] as tf.Tensor3D, own, config, true);
    save([...pass.layers.flatMap(flattenLayer), ...names.map((n) => own[n] as tf.Tensor)]);
    return {
      value: pass.logits,
      gradFunc: (dy: tf.Tensor, kept: tf.Tensor[]) => {
        // Read a copy: the engine disposes the tensors it holds in `kept` after backprop.
        const queue = [...kept];
        const take = (count: number) => queue.splice(0, count) as tf.Tensor2D[];
        const layers = Array.from({ length: config.layers }, () => unflattenLayer(take, config.steps));
        const keptParameters: Record<string, tf.Tensor> = {};
        names.forEach((name, k) => (keptParameters[name] = queue[k] as tf.Tensor));
        const { gradients, dImages } = backward({ layers }, dy as tf.Tensor2D, keptParameters, config, true);
        return [dImages as tf.Tensor3D, ...names.map((name) => gradients[name] as tf.Tensor)];
      },
    };
  });
  return differentiable(images, ...names.map((name) => parameters[name] as tf.Tensor)) as tf.Tensor2D;
}
