import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, randomValues, useBackend } from "./backends.test-support.js";
import { product, splitRows, stackRows, stackTransposed } from "./matrix-kernels.js";
import { seededUniform } from "./seeded-uniform.js";

/** Matrices of width 5 and 1, 3 and 2 rows, of distinct random values. */
function blocks(): tf.Tensor2D[] {
  const uniform = seededUniform(21);
  return [1, 3, 2].map((rows) => tf.tensor2d(randomValues(rows * 5, uniform), [rows, 5]));
}

// Each kernel against the backend's own ops (concat, transpose, slice, matMul) as the reference.
describe.each(BACKENDS)("matrix kernels on %s", (backend) => {
  beforeAll(() => useBackend(backend));

  it("stackRows is concat along rows, stackTransposed its transpose, and neither changes its inputs", async () => {
    const list = blocks();
    const before = await Promise.all(list.map((m) => m.data()));
    const stacked = stackRows(list);
    expect(stacked.shape).toEqual([6, 5]);
    expect(await stacked.data()).toEqual(await tf.concat(list).data());
    const transposed = stackTransposed(list);
    expect(transposed.shape).toEqual([5, 6]);
    expect(await transposed.data()).toEqual(await tf.transpose(tf.concat(list)).data());
    for (const [k, m] of list.entries()) expect(await m.data()).toEqual(before[k]);
  });

  it("splitRows gives the blocks of consecutive rows", async () => {
    const list = blocks();
    const parts = splitRows(tf.concat(list) as tf.Tensor2D, [1, 3, 2]);
    expect(parts.map((p) => p.shape)).toEqual([[1, 5], [3, 5], [2, 5]]);
    for (const [k, part] of parts.entries()) expect(await part.data()).toEqual(await list[k]!.data());
  });

  it("product matches matMul for an odd row count and a width that is not a multiple of 4", async () => {
    const uniform = seededUniform(22);
    const a = tf.tensor2d(randomValues(7 * 9, uniform), [7, 9]);
    const b = tf.tensor2d(randomValues(9 * 6, uniform), [9, 6]);
    const expected = await tf.matMul(a, b).data();
    Array.from(await product(a, b).data()).forEach((v, k) => expect(v).toBeCloseTo(expected[k]!, 5));
  });
});
