import * as tf from "@tensorflow/tfjs-core";
import { listKernel, namedKernel, type ArrayAccess, type TensorInfo } from "./array-kernel.js";

/**
 * Fused element-wise LSTM kernels in plain JavaScript for the cpu and wasm backends. They exist
 * because TensorFlow.js runs each element-wise op as its own kernel (a dozen per cell step, each
 * a full pass over memory, and wasm's tanh is slow); one pass in JavaScript doing a step's
 * arithmetic in float64 is faster and no less exact. Matrix products and the gates' sigmoid stay
 * with the backend (XNNPACK on wasm), except on cpu (matrix-kernels.ts).
 *
 * A layer reads a sequence x [batch, steps, I]; the input row of step t is
 * u_t = [h_{t-1} | x_t | 1], [batch, H + I + 1], so each step is one product u_t * W.
 */

/**
 * tanh for the cell state, without Math.exp (V8 calls out for it: ~19 ns, most of a cell step).
 * tanh(z) = 1 - 2/(e + 1) with e = exp(2z) = (exp(2z/32))^32: a degree-6 Taylor polynomial
 * on |2z/32| <= 0.625, squared five times. Arguments are clamped to |z| <= 10, where tanh is
 * within 5e-9 of +-1. Absolute error at most 5e-9 (tested against Math.tanh), under float32's
 * half-ulp of 3e-8 near +-1 where the error is largest; near 0 float64 rounding, amplified by
 * the squarings, costs a few 1e-15 absolute.
 */
export function cellTanh(z: number): number {
  const r = (z > 10 ? 10 : z < -10 ? -10 : z) * (2 / 32);
  let e = 1 + r * (1 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720))))));
  e *= e;
  e *= e;
  e *= e;
  e *= e;
  e *= e;
  return 1 - 2 / (e + 1);
}

const firstInputKernel = namedKernel(
  "MnistRnnLstmFirstInput",
  (access: ArrayAccess, inputs: { sequence: TensorInfo }, attrs: { hidden: number }) => {
    const [batch, steps, inputSize] = inputs.sequence.shape as [number, number, number];
    const width = attrs.hidden + inputSize + 1;
    const u = access.allocate([batch, width]).info;
    const [sequence, out] = [access.read(inputs.sequence), access.read(u)];
    for (let b = 0; b < batch; b++) {
      const row = b * width;
      out.fill(0, row, row + attrs.hidden);
      out.set(sequence.subarray(b * steps * inputSize, (b * steps + 1) * inputSize), row + attrs.hidden);
      out[row + width - 1] = 1;
    }
    return [u];
  },
);

/** The first step's input row for every example: u_0 = [h_{-1} = 0 | x_0 | 1], [batch, H + I + 1]. */
export function firstInput(sequence: tf.Tensor3D, hidden: number): tf.Tensor2D {
  return firstInputKernel({ sequence }, { hidden })[0] as tf.Tensor2D;
}

/**
 * The cell arithmetic of one step for every example, after the backend's sigmoid of all four
 * gate blocks (i, 2j, f, o: the j block's pre-activation was doubled so that
 * tanh(j) = 2*sigmoid(2j) - 1 needs no tanh kernel, which is slow on wasm).
 * Outputs: c [batch, H]; then h [batch, H] at the last step, else the next step's input row
 * u_{t+1} = [h_t | x_{t+1} | 1]; then, with withTanhC, tanh c [batch, H] for the backward step
 * (which reads the other activations from `gates`).
 */
const cellStepKernel = namedKernel(
  "MnistRnnLstmCellStep",
  (
    access: ArrayAccess,
    inputs: { gates: TensorInfo; cPrev?: TensorInfo | undefined; sequence: TensorInfo },
    attrs: { step: number; withTanhC: boolean },
  ) => {
    const [batch, steps, inputSize] = inputs.sequence.shape as [number, number, number];
    const hidden = (inputs.gates.shape[1] as number) / 4;
    const last = attrs.step === steps - 1;
    const width = last ? hidden : hidden + inputSize + 1;
    const c = access.allocate([batch, hidden]).info;
    const next = access.allocate([batch, width]).info;
    const tanhC = attrs.withTanhC ? access.allocate([batch, hidden]).info : undefined;
    const gates = access.read(inputs.gates);
    const sequence = access.read(inputs.sequence);
    const cPrev = inputs.cPrev === undefined ? undefined : access.read(inputs.cPrev);
    const [cOut, nextOut] = [access.read(c), access.read(next)];
    const tanhCOut = tanhC === undefined ? undefined : access.read(tanhC);
    for (let b = 0; b < batch; b++) {
      const g = b * 4 * hidden;
      const s = b * hidden;
      const row = b * width;
      for (let n = 0; n < hidden; n++) {
        const i = gates[g + n]!;
        const j = 2 * gates[g + hidden + n]! - 1;
        const f = gates[g + 2 * hidden + n]!;
        const o = gates[g + 3 * hidden + n]!;
        const cNew = (cPrev === undefined ? 0 : cPrev[s + n]! * f) + i * j;
        const tc = cellTanh(cNew);
        cOut[s + n] = cNew;
        nextOut[row + n] = tc * o;
        if (tanhCOut !== undefined) tanhCOut[s + n] = tc;
      }
      if (!last) {
        const x = (b * steps + attrs.step + 1) * inputSize;
        nextOut.set(sequence.subarray(x, x + inputSize), row + hidden);
        nextOut[row + width - 1] = 1;
      }
    }
    return tanhC === undefined ? [c, next] : [c, next, tanhC];
  },
);

/** What a cell step reads: the gate sigmoids [batch, 4H], c_{t-1} [batch, H] (none at t = 0), the layer's input sequence. */
export interface CellStepInputs {
  gates: tf.Tensor2D;
  cPrev: tf.Tensor2D | undefined;
  sequence: tf.Tensor3D;
}

/** Step `step`'s c_t and the row the next step reads: u_{t+1}, or h_T [batch, H] at the last step. */
export function cellStep(inputs: CellStepInputs, step: number): { c: tf.Tensor2D; next: tf.Tensor2D } {
  const [c, next] = cellStepKernel(inputs, { step, withTanhC: false }) as [tf.Tensor2D, tf.Tensor2D];
  return { c, next };
}

/** cellStep, and tanh(c_t) [batch, H] for the backward step. */
export function cellStepWithTanhC(inputs: CellStepInputs, step: number): { c: tf.Tensor2D; next: tf.Tensor2D; tanhC: tf.Tensor2D } {
  const [c, next, tanhC] = cellStepKernel(inputs, { step, withTanhC: true }) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
  return { c, next, tanhC };
}

/** What a backward step reads; either of dh and dhAbove may be absent, not both. */
export interface BackwardStepInputs {
  /** dL/dh_t through this layer's next step or the output layer, [batch, H]. */
  dh: tf.Tensor2D | undefined;
  /** dL/dh_t through the layer stacked above, [batch, H]. */
  dhAbove: tf.Tensor2D | undefined;
  /** The step's gate sigmoids [batch, 4H] and tanh(c_t) [batch, H] from the forward pass. */
  gates: tf.Tensor2D;
  tanhC: tf.Tensor2D;
  /** c_{t-1} [batch, H], absent at t = 0. */
  cPrev: tf.Tensor2D | undefined;
  /** dL/dc_t flowing back from step t+1, absent at the last step. */
  dcNext: tf.Tensor2D | undefined;
}

/**
 * dL/dh and dL/dc below this are taken as 0. Over long sequences (784 steps) they vanish into
 * float32's subnormal range, and the backend's products run one to two orders of magnitude slower
 * on subnormal operands (x86 handles them in microcode; WebAssembly cannot flush them). Under
 * Adam (epsilon 1e-7) a gradient that small moves no weight by a representable amount.
 */
const VANISHED = 1e-30;

const backwardStepKernel = namedKernel(
  "MnistRnnLstmBackwardStep",
  (
    access: ArrayAccess,
    inputs: {
      dh?: TensorInfo | undefined;
      dhAbove?: TensorInfo | undefined;
      gates: TensorInfo;
      tanhC: TensorInfo;
      cPrev?: TensorInfo | undefined;
      dcNext?: TensorInfo | undefined;
    },
  ) => {
    const [batch, hidden] = inputs.tanhC.shape as [number, number];
    const dz = access.allocate([batch, 4 * hidden]).info;
    const dcPrevInfo = access.allocate([batch, hidden]).info;
    const dh = inputs.dh === undefined ? undefined : access.read(inputs.dh);
    const dhAbove = inputs.dhAbove === undefined ? undefined : access.read(inputs.dhAbove);
    const gates = access.read(inputs.gates);
    const tanhC = access.read(inputs.tanhC);
    const cPrev = inputs.cPrev === undefined ? undefined : access.read(inputs.cPrev);
    const dcNext = inputs.dcNext === undefined ? undefined : access.read(inputs.dcNext);
    const [dzOut, dcPrev] = [access.read(dz), access.read(dcPrevInfo)];
    for (let b = 0; b < batch; b++) {
      const s = b * hidden;
      const r = b * 4 * hidden;
      for (let n = 0; n < hidden; n++) {
        const i = gates[r + n]!;
        const j = 2 * gates[r + hidden + n]! - 1;
        const f = gates[r + 2 * hidden + n]!;
        const o = gates[r + 3 * hidden + n]!;
        const tc = tanhC[s + n]!;
        // Math.abs and a select: with an if or a reassignment instead, V8 ran this loop 1.8x slower.
        const dhSum = (dh === undefined ? 0 : dh[s + n]!) + (dhAbove === undefined ? 0 : dhAbove[s + n]!);
        const dhn = Math.abs(dhSum) < VANISHED ? 0 : dhSum;
        const dcSum = (dcNext === undefined ? 0 : dcNext[s + n]!) + dhn * o * (1 - tc * tc);
        const dc = Math.abs(dcSum) < VANISHED ? 0 : dcSum;
        dzOut[r + n] = dc * j * i * (1 - i);
        dzOut[r + hidden + n] = dc * i * (1 - j * j);
        dzOut[r + 2 * hidden + n] = cPrev === undefined ? 0 : dc * cPrev[s + n]! * f * (1 - f);
        dzOut[r + 3 * hidden + n] = dhn * tc * o * (1 - o);
        dcPrev[s + n] = dc * f;
      }
    }
    return [dz, dcPrevInfo];
  },
);

/**
 * One backward step: from dL/dh_t and dL/dc_t to dL/d(pre-activations) (dz [batch, 4H], for the
 * unscaled j) and dL/dc_{t-1} (dcPrev [batch, H]).
 */
export function backwardStep(inputs: BackwardStepInputs): { dz: tf.Tensor2D; dcPrev: tf.Tensor2D } {
  const [dz, dcPrev] = backwardStepKernel(inputs, {}) as [tf.Tensor2D, tf.Tensor2D];
  return { dz, dcPrev };
}

const hiddenSequenceKernel = listKernel("MnistRnnLstmHiddenSequence", (access: ArrayAccess, list: TensorInfo[], attrs: { hidden: number }) => {
  const steps = list.length;
  const { hidden } = attrs;
  const batch = list[0]?.shape[0] as number;
  const sequence = access.allocate([batch, steps, hidden]).info;
  const out = access.read(sequence);
  list.forEach((info, t) => {
    const width = info.shape[1] as number;
    const rows = access.read(info);
    for (let b = 0; b < batch; b++) out.set(rows.subarray(b * width, b * width + hidden), (b * steps + t) * hidden);
  });
  return [sequence];
});

/**
 * A layer's hidden states as the next layer's input sequence, [batch, steps, H], from the rows
 * the forward pass made: h_t is the head of u_{t+1} = [h_t | x_{t+1} | 1], and h_T itself ends
 * the list. `rows`: u_1..u_{steps-1}, then h_T.
 */
export function hiddenSequence(rows: readonly tf.Tensor2D[], hidden: number): tf.Tensor3D {
  return hiddenSequenceKernel(rows, { hidden })[0] as tf.Tensor3D;
}
