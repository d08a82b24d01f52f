import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, randomValues, useBackend } from "./backends.test-support.js";
import { gruStep } from "./gru-cell.js";
import { lstmStep } from "./lstm-cell.js";
import { plainGruStep, plainLstmStep } from "./plain-js-model.test-support.js";
import { seededUniform } from "./seeded-uniform.js";

const batch = 3;
const inputs = 4;
const hidden = 5;

function rows(values: number[], width: number): number[][] {
  return Array.from({ length: values.length / width }, (_, r) => values.slice(r * width, (r + 1) * width));
}

describe.each(BACKENDS)("cells on %s", (backend) => {
  beforeAll(() => useBackend(backend));

  it("lstmStep matches a plain loop-and-array LSTM step for every example", async () => {
    const uniform = seededUniform(11);
    const x = randomValues(batch * inputs, uniform);
    const h = randomValues(batch * hidden, uniform);
    const c = randomValues(batch * hidden, uniform, 2);
    const kernel = randomValues((inputs + hidden) * 4 * hidden, uniform);
    const bias = randomValues(4 * hidden, uniform, 0.5);
    const forgetBias = 1.0;

    const state = lstmStep(
      tf.tensor2d(x, [batch, inputs]),
      { h: tf.tensor2d(h, [batch, hidden]), c: tf.tensor2d(c, [batch, hidden]) },
      tf.tensor2d(kernel, [inputs + hidden, 4 * hidden]),
      tf.tensor1d(bias),
      forgetBias,
    );
    const [hRows, cRows, xRows] = [rows(h, hidden), rows(c, hidden), rows(x, inputs)];
    const expectedC: number[] = [];
    const expectedH: number[] = [];
    for (let b = 0; b < batch; b++) {
      const [newC, newH] = plainLstmStep(xRows[b]!, hRows[b]!, cRows[b]!, kernel, bias, forgetBias);
      expectedC.push(...newC);
      expectedH.push(...newH);
    }
    const actualC = Array.from(await state.c.data());
    const actualH = Array.from(await state.h.data());
    actualC.forEach((v, k) => expect(v).toBeCloseTo(expectedC[k]!, 5));
    actualH.forEach((v, k) => expect(v).toBeCloseTo(expectedH[k]!, 5));
  });

  it("lstmStep adds the forget bias inside the cell: a large one keeps the old cell state", async () => {
    const c = tf.tensor2d([[0.7, -0.3]]);
    const state = lstmStep(tf.zeros([1, 1]), { h: tf.zeros([1, 2]), c }, tf.zeros([3, 8]), tf.zeros([8]), 50);
    expect(Array.from(await state.c.data())).toEqual([expect.closeTo(0.7, 6), expect.closeTo(-0.3, 6)]);
  });

  it("gruStep matches a plain loop-and-array GRU step for every example", async () => {
    const uniform = seededUniform(12);
    const x = randomValues(batch * inputs, uniform);
    const h = randomValues(batch * hidden, uniform);
    const parameters = new Map([
      ["gru/gates/kernel", randomValues((inputs + hidden) * 2 * hidden, uniform)],
      ["gru/gates/bias", randomValues(2 * hidden, uniform, 0.5)],
      ["gru/candidate/kernel", randomValues((inputs + hidden) * hidden, uniform)],
      ["gru/candidate/bias", randomValues(hidden, uniform, 0.5)],
    ]);
    const next = gruStep(tf.tensor2d(x, [batch, inputs]), tf.tensor2d(h, [batch, hidden]), {
      gateKernel: tf.tensor2d(parameters.get("gru/gates/kernel")!, [inputs + hidden, 2 * hidden]),
      gateBias: tf.tensor1d(parameters.get("gru/gates/bias")!),
      candidateKernel: tf.tensor2d(parameters.get("gru/candidate/kernel")!, [inputs + hidden, hidden]),
      candidateBias: tf.tensor1d(parameters.get("gru/candidate/bias")!),
    });
    const expected = rows(x, inputs).flatMap((xRow, b) => plainGruStep(xRow, rows(h, hidden)[b]!, parameters));
    Array.from(await next.data()).forEach((v, k) => expect(v).toBeCloseTo(expected[k]!, 5));
  });
});
