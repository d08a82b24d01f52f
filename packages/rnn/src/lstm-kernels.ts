import * as tf from "@tensorflow/tfjs-core";

/**
 * Fused element-wise LSTM kernels in plain JavaScript, registered for the cpu and wasm
 * backends. They exist because TensorFlow.js runs each element-wise op as its own kernel
 * (a dozen per cell step, each a full pass over memory, and wasm's tanh is slow); one pass
 * in JavaScript doing a step's arithmetic in float64 is faster and no less exact. Matrix
 * products and the gates' sigmoid stay with the backend (XNNPACK on wasm), except on cpu
 * where the register-blocked product below beats the backend's own.
 */
export const KERNEL_FIRST_INPUT = "MnistRnnLstmFirstInput";
export const KERNEL_CELL_STEP = "MnistRnnLstmCellStep";
export const KERNEL_BACKWARD_STEP = "MnistRnnLstmBackwardStep";
export const KERNEL_STACK_SEQUENCE = "MnistRnnLstmStackSequence";
export const KERNEL_HIDDEN_SEQUENCE = "MnistRnnLstmHiddenSequence";
export const KERNEL_ROW_BLOCKS = "MnistRnnRowBlocks";
export const KERNEL_CPU_MAT_MUL = "MnistRnnCpuMatMul";

export const FAST_BACKENDS = ["cpu", "wasm"] as const;

type TensorInfo = tf.TensorInfo;

/** What a kernel needs from a backend: float32 views of inputs, and new outputs with views. */
interface ArrayAccess {
  /** A new [shape] float32 output and a writable view of its values (not cleared on wasm). */
  allocate(shape: number[]): { info: TensorInfo; values: Float32Array };
  /** A view of an input's values; on wasm only valid until the next allocation. */
  read(info: TensorInfo): Float32Array;
}

interface CpuBackendLike {
  data: { get(dataId: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: "float32", values: Float32Array): TensorInfo;
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: "float32"): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

function accessFor(backendName: string, backend: unknown): ArrayAccess {
  if (backendName === "cpu") {
    const cpu = backend as CpuBackendLike;
    return {
      allocate(shape) {
        const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
        return { info: cpu.makeTensorInfo(shape, "float32", values), values };
      },
      read: (info) => cpu.data.get(info.dataId).values as Float32Array,
    };
  }
  const wasm = backend as WasmBackendLike;
  return {
    allocate(shape) {
      const info = wasm.makeOutput(shape, "float32");
      return { info, values: wasm.typedArrayFromHeap(info) };
    },
    read: (info) => wasm.typedArrayFromHeap(info),
  };
}

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

/**
 * The first step's input row for every example: u_0 = [h_{-1} = 0 | x_0 | 1], [batch, H + I + 1].
 * When saving, also the input rows of every step transposed for the weight-gradient product
 * after the backward loop, inputsT [H + I + 1, steps*batch], columns in step-major order
 * (t*batch + b): its x and bias rows are filled here, its h rows at t = 0 with zeros, and
 * cellStep writes h_t into columns t+1 as it computes them (writing the transpose as we go is far
 * cheaper than a transpose kernel or a transposeA product on wasm).
 * Inputs: images [batch, steps, I]. Attrs: hidden, save.
 */
function firstInput(access: ArrayAccess, inputs: Record<string, TensorInfo>, attrs: { hidden: number; save: boolean }): TensorInfo[] {
  const imagesInfo = inputs.images as TensorInfo;
  const [batch, steps, inputSize] = imagesInfo.shape as [number, number, number];
  const { hidden } = attrs;
  const width = hidden + inputSize + 1;
  const u = access.allocate([batch, width]);
  const inputsT = attrs.save ? access.allocate([width, steps * batch]) : undefined;
  const images = access.read(imagesInfo);
  const out = access.read(u.info);
  for (let b = 0; b < batch; b++) {
    const row = b * width;
    out.fill(0, row, row + hidden);
    out.set(images.subarray(b * steps * inputSize, (b * steps + 1) * inputSize), row + hidden);
    out[row + width - 1] = 1;
  }
  if (inputsT === undefined) return [u.info];
  const rows = steps * batch;
  const outT = access.read(inputsT.info);
  for (let n = 0; n < hidden; n++) outT.fill(0, n * rows, n * rows + batch);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < steps; t++) {
      const x = (b * steps + t) * inputSize;
      const column = t * batch + b;
      for (let k = 0; k < inputSize; k++) outT[(hidden + k) * rows + column] = images[x + k]!;
    }
  }
  outT.fill(1, (width - 1) * rows, width * rows);
  return [u.info, inputsT.info];
}

/**
 * The cell arithmetic of one step for every example, after the backend's sigmoid of all four
 * gate blocks (i, 2j, f, o: the j block's pre-activation was doubled so that
 * tanh(j) = 2*sigmoid(2j) - 1 needs no tanh kernel, which is slow on wasm).
 * Inputs: gates [batch, 4H] (sigmoids), cPrev [batch, H] (absent at t = 0),
 * images [batch, steps, I], inputsT (only when saving; h_t is written into it, see firstInput).
 * Attrs: the step t, whether to save activations.
 * Outputs: c [batch, H]; then h [batch, H] at the last step, else the next step's input row
 * u_{t+1} = [h_t | x_{t+1} | 1]; then, when saving, tanh c [batch, H] for the backward step
 * (which reads the other activations from `gates`).
 */
function cellStep(access: ArrayAccess, inputs: Record<string, TensorInfo>, attrs: { step: number; save: boolean }): TensorInfo[] {
  const gatesInfo = inputs.gates as TensorInfo;
  const imagesInfo = inputs.images as TensorInfo;
  const [batch, steps, inputSize] = imagesInfo.shape as [number, number, number];
  const hidden = (gatesInfo.shape[1] as number) / 4;
  const last = attrs.step === steps - 1;
  const width = last ? hidden : hidden + inputSize + 1;
  const c = access.allocate([batch, hidden]);
  const next = access.allocate([batch, width]);
  const tanhC = attrs.save ? access.allocate([batch, hidden]) : undefined;
  const gates = access.read(gatesInfo);
  const images = access.read(imagesInfo);
  const cPrev = inputs.cPrev === undefined ? undefined : access.read(inputs.cPrev);
  const inputsT = inputs.inputsT === undefined || last ? undefined : access.read(inputs.inputsT);
  const [cOut, nextOut] = [access.read(c.info), access.read(next.info)];
  const tanhCOut = tanhC === undefined ? undefined : access.read(tanhC.info);
  const rows = steps * batch;
  for (let b = 0; b < batch; b++) {
    const g = b * 4 * hidden;
    const s = b * hidden;
    const row = b * width;
    const column = (attrs.step + 1) * batch + b;
    for (let n = 0; n < hidden; n++) {
      const i = gates[g + n]!;
      const j = 2 * gates[g + hidden + n]! - 1;
      const f = gates[g + 2 * hidden + n]!;
      const o = gates[g + 3 * hidden + n]!;
      const cNew = (cPrev === undefined ? 0 : cPrev[s + n]! * f) + i * j;
      const tc = cellTanh(cNew);
      const h = tc * o;
      cOut[s + n] = cNew;
      nextOut[row + n] = h;
      if (tanhCOut !== undefined) tanhCOut[s + n] = tc;
      if (inputsT !== undefined) inputsT[n * rows + column] = h;
    }
    if (!last) {
      const x = (b * steps + attrs.step + 1) * inputSize;
      nextOut.set(images.subarray(x, x + inputSize), row + hidden);
      nextOut[row + width - 1] = 1;
    }
  }
  return tanhC === undefined ? [c.info, next.info] : [c.info, next.info, tanhC.info];
}

/**
 * One backward step: from dL/dh_t and dL/dc_t flowing back from step t+1 (dcNext, absent
 * at the last step) to dL/d(pre-activations) (dz [batch, 4H], for the unscaled j) and
 * dL/dc_{t-1} (dcPrev). dL/dh_t is the sum of dh (through this layer's next step or the
 * output layer) and dhAbove (through the layer stacked above); either may be absent, not both.
 * Inputs: dh [batch, H], dhAbove [batch, H], the step's gates [batch, 4H] and tanhC [batch, H]
 * from the forward pass, cPrev [batch, H] (absent at t = 0), dcNext.
 */
function backwardStep(access: ArrayAccess, inputs: Record<string, TensorInfo>): TensorInfo[] {
  const shapeInfo = (inputs.dh ?? inputs.dhAbove) as TensorInfo;
  const [batch, hidden] = shapeInfo.shape as [number, number];
  const dz = access.allocate([batch, 4 * hidden]);
  const dcPrevOut = access.allocate([batch, hidden]);
  const dh = inputs.dh === undefined ? undefined : access.read(inputs.dh);
  const dhAbove = inputs.dhAbove === undefined ? undefined : access.read(inputs.dhAbove);
  const gates = access.read(inputs.gates as TensorInfo);
  const tanhC = access.read(inputs.tanhC as TensorInfo);
  const cPrev = inputs.cPrev === undefined ? undefined : access.read(inputs.cPrev);
  const dcNext = inputs.dcNext === undefined ? undefined : access.read(inputs.dcNext);
  const [dzOut, dcPrev] = [access.read(dz.info), access.read(dcPrevOut.info)];
  for (let b = 0; b < batch; b++) {
    const s = b * hidden;
    const r = b * 4 * hidden;
    for (let n = 0; n < hidden; n++) {
      const i = gates[r + n]!;
      const j = 2 * gates[r + hidden + n]! - 1;
      const f = gates[r + 2 * hidden + n]!;
      const o = gates[r + 3 * hidden + n]!;
      const tc = tanhC[s + n]!;
      const dhn = (dh === undefined ? 0 : dh[s + n]!) + (dhAbove === undefined ? 0 : dhAbove[s + n]!);
      const dc = (dcNext === undefined ? 0 : dcNext[s + n]!) + dhn * o * (1 - tc * tc);
      dzOut[r + n] = dc * j * i * (1 - i);
      dzOut[r + hidden + n] = dc * i * (1 - j * j);
      dzOut[r + 2 * hidden + n] = cPrev === undefined ? 0 : dc * cPrev[s + n]! * f * (1 - f);
      dzOut[r + 3 * hidden + n] = dhn * tc * o * (1 - o);
      dcPrev[s + n] = dc * f;
    }
  }
  return [dz.info, dcPrevOut.info];
}

/**
 * A layer's hidden states as the next layer's input sequence, [batch, steps, H]. Each step's
 * h_t is the first H columns of a row the forward pass already made: u_{t+1} = [h_t | x_{t+1} | 1],
 * or h_T itself at the last step. Inputs: h0..h{steps-1}, each [batch, H + ...]. Attrs: steps, hidden.
 */
function hiddenSequence(access: ArrayAccess, inputs: Record<string, TensorInfo>, attrs: { steps: number; hidden: number }): TensorInfo {
  const { steps, hidden } = attrs;
  const batch = (inputs.h0 as TensorInfo).shape[0] as number;
  const sequence = access.allocate([batch, steps, hidden]);
  const out = access.read(sequence.info);
  for (let t = 0; t < steps; t++) {
    const rowsInfo = inputs[`h${t}`] as TensorInfo;
    const width = rowsInfo.shape[1] as number;
    const rows = access.read(rowsInfo);
    for (let b = 0; b < batch; b++) {
      out.set(rows.subarray(b * width, b * width + hidden), (b * steps + t) * hidden);
    }
  }
  return sequence.info;
}

/**
 * dL/d(pre-activations) of the whole sequence for the one weight-gradient product after the
 * loop, rows in step-major order (t*batch + b), [steps*batch, 4H].
 * Inputs: dz0..dz{steps-1} [batch, 4H]. Attrs: steps.
 */
function stackSequence(access: ArrayAccess, inputs: Record<string, TensorInfo>, attrs: { steps: number }): TensorInfo {
  const { steps } = attrs;
  const [batch, gates] = (inputs.dz0 as TensorInfo).shape as [number, number];
  const dZ = access.allocate([steps * batch, gates]);
  const out = access.read(dZ.info);
  for (let t = 0; t < steps; t++) out.set(access.read(inputs[`dz${t}`] as TensorInfo), t * batch * gates);
  return dZ.info;
}

/**
 * Splits a row-major [rows, columns] matrix into blocks of consecutive rows: each block is one
 * contiguous copy, where the wasm backend's slice kernel walks every element.
 * Inputs: x. Attrs: rows, the number of rows of each block (summing to x's rows).
 */
function rowBlocks(access: ArrayAccess, inputs: Record<string, TensorInfo>, attrs: { rows: number[] }): TensorInfo[] {
  const xInfo = inputs.x as TensorInfo;
  const columns = xInfo.shape[1] as number;
  const blocks = attrs.rows.map((rows) => access.allocate([rows, columns]).info);
  const x = access.read(xInfo);
  let offset = 0;
  for (const block of blocks) {
    const size = (block.shape[0] as number) * columns;
    access.read(block).set(x.subarray(offset, offset + size));
    offset += size;
  }
  return blocks;
}

/**
 * [M, K] x [K, N] for the cpu backend, several times faster than its built-in product: each
 * pass over k keeps a 2 x 4 block of the output in registers (float64 accumulators), so every
 * value loaded is used for several multiply-adds.
 */
function cpuMatMul(access: ArrayAccess, inputs: Record<string, TensorInfo>): TensorInfo {
  const aInfo = inputs.a as TensorInfo;
  const bInfo = inputs.b as TensorInfo;
  const [m, k] = aInfo.shape as [number, number];
  const n = bInfo.shape[1] as number;
  const out = access.allocate([m, n]);
  const [a, b, o] = [access.read(aInfo), access.read(bInfo), access.read(out.info)];
  const fullColumns = n - (n % 4);
  for (let i = 0; i < m; i += 2) {
    // An odd last row is computed twice into the same place rather than needing its own loop.
    const i1 = Math.min(i + 1, m - 1);
    const a0 = i * k;
    const a1 = i1 * k;
    for (let j = 0; j < fullColumns; j += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      for (let p = 0, f = j; p < k; p++, f += n) {
        const b0 = b[f]!, b1 = b[f + 1]!, b2 = b[f + 2]!, b3 = b[f + 3]!;
        const x0 = a[a0 + p]!;
        const x1 = a[a1 + p]!;
        c00 += x0 * b0; c01 += x0 * b1; c02 += x0 * b2; c03 += x0 * b3;
        c10 += x1 * b0; c11 += x1 * b1; c12 += x1 * b2; c13 += x1 * b3;
      }
      const r0 = i * n + j;
      const r1 = i1 * n + j;
      o[r1] = c10; o[r1 + 1] = c11; o[r1 + 2] = c12; o[r1 + 3] = c13;
      o[r0] = c00; o[r0 + 1] = c01; o[r0 + 2] = c02; o[r0 + 3] = c03;
    }
    for (let j = fullColumns; j < n; j++) {
      let c0 = 0, c1 = 0;
      for (let p = 0, f = j; p < k; p++, f += n) {
        c0 += a[a0 + p]! * b[f]!;
        c1 += a[a1 + p]! * b[f]!;
      }
      o[i1 * n + j] = c1;
      o[i * n + j] = c0;
    }
  }
  return out.info;
}

let registered = false;

/** Registers the kernels once, on first use, so importing the package has no effect on tf. */
export function registerLstmKernels(): void {
  if (registered) return;
  registered = true;
  for (const backendName of FAST_BACKENDS) {
    const kernel = (
      kernelName: string,
      run: (access: ArrayAccess, inputs: Record<string, TensorInfo>, attrs: never) => TensorInfo | TensorInfo[],
    ) =>
      tf.registerKernel({
        kernelName,
        backendName,
        kernelFunc: ({ inputs, backend, attrs }) =>
          run(accessFor(backendName, backend), inputs as Record<string, TensorInfo>, attrs as never),
      });
    kernel(KERNEL_FIRST_INPUT, firstInput);
    kernel(KERNEL_CELL_STEP, cellStep);
    kernel(KERNEL_BACKWARD_STEP, backwardStep);
    kernel(KERNEL_STACK_SEQUENCE, stackSequence);
    kernel(KERNEL_HIDDEN_SEQUENCE, hiddenSequence);
    kernel(KERNEL_ROW_BLOCKS, rowBlocks);
    if (backendName === "cpu") kernel(KERNEL_CPU_MAT_MUL, cpuMatMul);
  }
}
