import * as tf from "@tensorflow/tfjs-core";
import { listKernel, namedKernel, type ArrayAccess, type TensorInfo } from "./array-kernel.js";

/**
 * General matrix kernels for the cpu and wasm backends, where they beat the backends' own: block
 * copies of rows (the wasm slice and concat kernels walk every element), a transpose that
 * reads and writes in cache-sized runs, and on cpu a register-blocked product.
 */

/**
 * Splits a row-major [rows, columns] matrix into blocks of consecutive rows: each block is one
 * contiguous copy. Attrs: rows, the number of rows of each block (summing to x's rows).
 */
const rowBlocks = namedKernel("MnistRnnRowBlocks", (access: ArrayAccess, inputs: { x: TensorInfo }, attrs: { rows: number[] }) => {
  const columns = inputs.x.shape[1] as number;
  const blocks = attrs.rows.map((rows) => access.allocate([rows, columns]).info);
  const x = access.read(inputs.x);
  let offset = 0;
  for (const block of blocks) {
    const size = (block.shape[0] as number) * columns;
    access.read(block).set(x.subarray(offset, offset + size));
    offset += size;
  }
  return blocks;
});

/** Consecutive row blocks of a matrix, e.g. the input and recurrent rows of lstm/kernel. */
export function splitRows(x: tf.Tensor2D, rows: number[]): tf.Tensor2D[] {
  return rowBlocks({ x }, { rows }) as tf.Tensor2D[];
}

/** The shape of matrices of equal width one under another. */
function stackShape(list: readonly TensorInfo[]): { rows: number; columns: number } {
  return { rows: list.reduce((sum, info) => sum + (info.shape[0] as number), 0), columns: list[0]?.shape[1] as number };
}

/** Matrices of equal width one under another, [sum of rows, columns]. */
const stacked = listKernel("MnistRnnStackRows", (access: ArrayAccess, list: TensorInfo[]) => {
  const { rows, columns } = stackShape(list);
  const out = access.allocate([rows, columns]).info;
  const values = access.read(out);
  let offset = 0;
  for (const info of list) {
    const block = access.read(info);
    values.set(block, offset);
    offset += block.length;
  }
  return [out];
});

/** The matrices of `list` (equal widths) one under another, [sum of rows, columns]. */
export function stackRows(list: readonly tf.Tensor2D[]): tf.Tensor2D {
  return stacked(list, {})[0] as tf.Tensor2D;
}

/**
 * The transpose of the matrices one under another, [columns, sum of rows]. Per matrix and output
 * row, it writes one contiguous run while reading one column whose cache lines serve the next
 * columns too.
 */
const stackedTransposed = listKernel("MnistRnnStackTransposed", (access: ArrayAccess, list: TensorInfo[]) => {
  const { rows, columns } = stackShape(list);
  const out = access.allocate([columns, rows]).info;
  const values = access.read(out);
  let offset = 0;
  for (const info of list) {
    const height = info.shape[0] as number;
    const block = access.read(info);
    for (let n = 0; n < columns; n++) {
      const start = n * rows + offset;
      for (let r = 0; r < height; r++) values[start + r] = block[r * columns + n]!;
    }
    offset += height;
  }
  return [out];
});

/** transpose(stackRows(list)) in one pass, [columns, sum of rows]. */
export function stackTransposed(list: readonly tf.Tensor2D[]): tf.Tensor2D {
  return stackedTransposed(list, {})[0] as tf.Tensor2D;
}

/**
 * [M, K] x [K, N] for the cpu backend, several times faster than its built-in product: each
 * pass over k keeps a 2 x 4 block of the output in registers (float64 accumulators), so every
 * value loaded is used for several multiply-adds.
 */
const cpuMatMul = namedKernel("MnistRnnCpuMatMul", (access: ArrayAccess, inputs: { a: TensorInfo; b: TensorInfo }) => {
  const [m, k] = inputs.a.shape as [number, number];
  const n = inputs.b.shape[1] as number;
  const out = access.allocate([m, n]);
  const [a, b, o] = [access.read(inputs.a), access.read(inputs.b), access.read(out.info)];
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
  return [out.info];
});

/** a x b; on cpu through the register-blocked kernel, elsewhere the backend's own. */
export function product(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (tf.getBackend() === "cpu") return cpuMatMul({ a, b }, {})[0] as tf.Tensor2D;
  return tf.matMul(a, b);
}
