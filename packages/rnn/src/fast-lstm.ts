import * as tf from "@tensorflow/tfjs-core";
import type { ModelConfig } from "./config.js";
import {
  FAST_BACKENDS,
  KERNEL_BACKWARD_STEP,
  KERNEL_CPU_MAT_MUL,
  KERNEL_CELL_STEP,
  KERNEL_FIRST_INPUT,
  KERNEL_ROW_BLOCKS,
  KERNEL_STACK_SEQUENCE,
  registerLstmKernels,
} from "./lstm-kernels.js";
import type { Parameters } from "./plain-forward.js";

/**
 * The LSTM classifier with a hand-written backward pass through time. Same function as
 * plainLogits, computed differently:
 * - the input projection is re-associated into the gate weights: (x*Win + bin)*Kx =
 *   x*(Win*Kx) + bin*Kx (no non-linearity between them), and stacked with the recurrent rows
 *   and the bias, so each step is one product [h | x_t | 1] * W with a constant W;
 * - one sigmoid for all four gates (the j columns of W are doubled: tanh(j) = 2*sigmoid(2j) - 1),
 *   then the rest of the cell as one fused kernel (lstm-kernels.ts);
 * - backward: one [batch, 4H] x [4H, H] product per step, and every weight gradient from one
 *   product over the whole sequence after the loop, then the chain rule back to the
 *   variables (input/kernel, input/bias, lstm/kernel, lstm/bias, output/*).
 */

export function fastLstmAvailable(config: ModelConfig): boolean {
  return config.cell === "lstm" && (FAST_BACKENDS as readonly string[]).includes(tf.getBackend());
}

interface Reassociated {
  /** Rows of lstm/kernel that multiply the projected input, [H, 4H]. */
  inputRows: tf.Tensor2D;
  /** Rows of lstm/kernel that multiply h, [H, 4H]. */
  recurrent: tf.Tensor2D;
  /** input/kernel * inputRows, [I, 4H]. */
  inputGates: tf.Tensor2D;
  /** [recurrent; inputGates; input/bias * inputRows + lstm/bias + forget bias] with the j
   * columns doubled, [H + I + 1, 4H]: the right operand of every forward step. */
  stepWeights: tf.Tensor2D;
}

interface ForwardPass {
  logits: tf.Tensor2D;
  /** h of the last step, [batch, H]. */
  last: tf.Tensor2D;
  /** The input row [h_{t-1} | x_t | 1] of every step (only when saving), [batch, H + I + 1]. */
  u: tf.Tensor2D[];
  /** c_t of every step (only when saving), [batch, H]. */
  c: tf.Tensor2D[];
  /** Per step [batch, 5H]: i, tanh j, f, o, tanh c (only when saving). */
  saved: tf.Tensor2D[];
  weights: Reassociated;
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

function reassociate(parameters: Parameters, config: ModelConfig): Reassociated {
  const hidden = config.hiddenSize;
  const kernel = parameters["lstm/kernel"] as tf.Tensor2D;
  const [inputRows, recurrent] = splitRows(kernel, [hidden, hidden]) as [tf.Tensor2D, tf.Tensor2D];
  const inputGates = product(parameters["input/kernel"] as tf.Tensor2D, inputRows);
  const forget = new Float32Array(4 * hidden).fill(config.forgetBias, 2 * hidden, 3 * hidden);
  const projectedBias = product(tf.reshape(parameters["input/bias"] as tf.Tensor1D, [1, hidden]), inputRows); // [1, 4H]
  const gateBias = tf.add(tf.add(projectedBias, parameters["lstm/bias"] as tf.Tensor1D), tf.tensor1d(forget));
  const jDoubled = tf.tensor1d(new Float32Array(4 * hidden).fill(1).fill(2, hidden, 2 * hidden));
  const stepWeights = tf.mul(tf.concat([recurrent, inputGates, gateBias]), jDoubled) as tf.Tensor2D;
  return { inputRows, recurrent, inputGates, stepWeights };
}

/** Runs the sequence. Without `save` each step's state is freed as soon as the next exists. */
function forward(images: tf.Tensor3D, parameters: Parameters, config: ModelConfig, save: boolean): ForwardPass {
  registerLstmKernels();
  const { steps, hiddenSize: hidden } = config;
  const weights = reassociate(parameters, config);
  const u: tf.Tensor2D[] = [];
  const c: tf.Tensor2D[] = [];
  const saved: tf.Tensor2D[] = [];
  let input = tf.engine().runKernel(KERNEL_FIRST_INPUT, { images }, { hidden }) as tf.Tensor2D; // [batch, H + I + 1]
  let cell: tf.Tensor2D | undefined;
  for (let step = 0; step < steps; step++) {
    const kernelInputs: tf.NamedTensorMap = { images };
    if (cell !== undefined) kernelInputs.cPrev = cell;
    const outputs = tf.tidy(() => {
      kernelInputs.gates = tf.sigmoid(product(input, weights.stepWeights)); // [batch, 4H]
      return tf.engine().runKernel(KERNEL_CELL_STEP, kernelInputs, { step, save }) as tf.Tensor2D[];
    });
    const [cNew, next, savedNew] = outputs as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D?];
    if (save) {
      u.push(input);
      c.push(cNew);
      saved.push(savedNew as tf.Tensor2D);
    } else {
      tf.dispose([input, cell as tf.Tensor2D]);
    }
    input = next;
    cell = cNew;
  }
  if (!save) tf.dispose(cell as tf.Tensor2D);
  const last = input; // the last step outputs h_T itself, [batch, H]
  const logits = tf.add(
    product(last, parameters["output/kernel"] as tf.Tensor2D),
    parameters["output/bias"] as tf.Tensor1D,
  ) as tf.Tensor2D;
  return { logits, last, u, c, saved, weights };
}

/** Gradients of every variable (and, if asked, of the images) given dL/dlogits. */
function backward(
  pass: Omit<ForwardPass, "logits">,
  dLogits: tf.Tensor2D, // [batch, classes]
  parameters: Parameters,
  config: ModelConfig,
  withImages: boolean,
): { gradients: Record<string, tf.Tensor>; dImages?: tf.Tensor3D } {
  const { steps, inputSize, hiddenSize: hidden } = config;
  const outputKernel = parameters["output/kernel"] as tf.Tensor2D;
  const gradients: Record<string, tf.Tensor> = {
    "output/kernel": product(tf.transpose(pass.last), dLogits),
    "output/bias": tf.sum(dLogits, 0),
  };
  const recurrentT = tf.transpose(pass.weights.recurrent); // [4H, H]
  let dh = product(dLogits, tf.transpose(outputKernel)); // [batch, H]
  let dcNext: tf.Tensor2D | undefined;
  const sequence: tf.NamedTensorMap = {};
  for (let step = steps - 1; step >= 0; step--) {
    const inputs: tf.NamedTensorMap = { dh, saved: pass.saved[step] as tf.Tensor2D };
    if (step > 0) inputs.cPrev = pass.c[step - 1] as tf.Tensor2D;
    if (dcNext !== undefined) inputs.dcNext = dcNext;
    const [dz, dcPrev] = tf.engine().runKernel(KERNEL_BACKWARD_STEP, inputs, {}) as tf.Tensor2D[];
    sequence[`dz${step}`] = dz as tf.Tensor2D;
    sequence[`u${step}`] = pass.u[step] as tf.Tensor2D;
    dcNext = dcPrev;
    if (step > 0) dh = product(dz as tf.Tensor2D, recurrentT);
  }
  const [inputsT, dZ] = tf.engine().runKernel(KERNEL_STACK_SEQUENCE, sequence, { steps }) as tf.Tensor2D[];
  // [H + I + 1, 4H]: gradients of the stacked [recurrent; inputGates; gate bias] (unscaled).
  const dStacked = product(inputsT as tf.Tensor2D, dZ as tf.Tensor2D);
  const [dRecurrent, dInputGatesAndBias] = splitRows(dStacked, [hidden, inputSize + 1]) as [tf.Tensor2D, tf.Tensor2D];
  const dBias = splitRows(dInputGatesAndBias, [inputSize, 1])[1] as tf.Tensor2D; // [1, 4H]
  // Chain rule through inputGates = Win*Kx and gateBias = bin*Kx + b: with P = [Win; bin],
  // dP = d[inputGates; gateBias] * Kx^T and dKx = P^T * d[inputGates; gateBias].
  const projection = tf.concat([
    parameters["input/kernel"] as tf.Tensor2D,
    tf.reshape(parameters["input/bias"] as tf.Tensor1D, [1, hidden]),
  ]) as tf.Tensor2D; // [I + 1, H]
  const dProjection = product(dInputGatesAndBias, tf.transpose(pass.weights.inputRows)); // [I + 1, H]
  const [dInputKernel, dInputBias] = splitRows(dProjection, [inputSize, 1]) as [tf.Tensor2D, tf.Tensor2D];
  gradients["input/kernel"] = dInputKernel;
  gradients["input/bias"] = tf.reshape(dInputBias, [hidden]);
  gradients["lstm/kernel"] = tf.concat([product(tf.transpose(projection), dInputGatesAndBias), dRecurrent]);
  gradients["lstm/bias"] = tf.reshape(dBias, [4 * hidden]);
  if (!withImages) return { gradients };
  const batch = pass.last.shape[0];
  const dInputs = product(dZ as tf.Tensor2D, tf.transpose(pass.weights.inputGates)); // [steps*batch, I]
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

export function fastLossAndGradients(
  images: tf.Tensor3D,
  labels: tf.Tensor1D,
  parameters: Parameters,
  config: ModelConfig,
): { loss: tf.Scalar; logits: tf.Tensor2D; gradients: Record<string, tf.Tensor> } {
  return tf.tidy(() => {
    const pass = forward(images, parameters, config, true);
    const { loss, dLogits } = crossEntropy(pass.logits, labels, config.classes);
    const { gradients } = backward(pass, dLogits, parameters, config, false);
    return { loss, logits: pass.logits, gradients };
  });
}

/**
 * Logits through the fast path. Under a gradient tape (tf.grads, optimizer.minimize) it is one
 * custom-gradient op whose gradient is the hand-written backward pass; otherwise no activations
 * are kept, so large evaluation batches need little memory.
 */
export function fastLogits(images: tf.Tensor3D, parameters: Parameters, config: ModelConfig): tf.Tensor2D {
  if (!tf.engine().isTapeOn()) return tf.tidy(() => forward(images, parameters, config, false).logits);
  const names = ["input/kernel", "input/bias", "lstm/kernel", "lstm/bias", "output/kernel", "output/bias"];
  const differentiable = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const inputs = args.slice(0, -1) as tf.Tensor[];
    const own: Record<string, tf.Tensor> = {};
    names.forEach((name, k) => (own[name] = inputs[k + 1] as tf.Tensor));
    const pass = forward(inputs[0] as tf.Tensor3D, own, config, true);
    save([pass.last, ...pass.u, ...pass.c, ...pass.saved, pass.weights.inputRows, pass.weights.recurrent, pass.weights.inputGates, pass.weights.stepWeights, ...names.map((n) => own[n] as tf.Tensor)]);
    return {
      value: pass.logits,
      gradFunc: (dy: tf.Tensor, kept: tf.Tensor[]) => {
        const { steps } = config;
        // Read a copy: the engine disposes the tensors it holds in `kept` after backprop.
        const queue = [...kept];
        const take = (count: number) => queue.splice(0, count) as tf.Tensor2D[];
        const [last] = take(1);
        const u = take(steps);
        const c = take(steps);
        const saved = take(steps);
        const [inputRows, recurrent, inputGates, stepWeights] = take(4) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const keptParameters: Record<string, tf.Tensor> = {};
        names.forEach((name, k) => (keptParameters[name] = queue[k] as tf.Tensor));
        const replay = {
          last: last as tf.Tensor2D,
          u,
          c,
          saved,
          weights: { inputRows, recurrent, inputGates, stepWeights },
        };
        const { gradients, dImages } = backward(replay, dy as tf.Tensor2D, keptParameters, config, true);
        return [dImages as tf.Tensor3D, ...names.map((name) => gradients[name] as tf.Tensor)];
      },
    };
  });
  return differentiable(images, ...names.map((name) => parameters[name] as tf.Tensor)) as tf.Tensor2D;
}
