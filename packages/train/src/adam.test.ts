import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { Adam } from "./adam.js";

// Seeds start at 1: tfjs treats a seed of 0 as "no seed".
function seededGradients(variables: Record<string, tf.Variable>, seed: number): Record<string, tf.Tensor> {
  return Object.fromEntries(
    Object.entries(variables).map(([name, v], k) => [name, tf.randomNormal(v.shape, 0, 1 + k, "float32", 1 + seed * 10 + k)]),
  );
}

function makeVariables(): Record<string, tf.Variable> {
  return {
    kernel: tf.variable(tf.randomUniform([5, 3], -1, 1, "float32", 11)),
    bias: tf.variable(tf.randomUniform([3], -1, 1, "float32", 12)),
  };
}

async function values(variables: Record<string, tf.Variable>): Promise<Float32Array[]> {
  return Promise.all(Object.values(variables).map(async (v) => Float32Array.from(await v.data())));
}

describe("Adam", () => {
  beforeAll(async () => {
    await tf.setBackend("cpu");
  });

  it("updates bit for bit like tf.train.adam", async () => {
    const ours = makeVariables();
    const reference = makeVariables();
    const adam = new Adam(ours);
    const tfAdam = tf.train.adam(0.01);
    for (let step = 0; step < 12; step++) {
      const g1 = seededGradients(ours, step);
      const g2 = seededGradients(reference, step);
      adam.apply(g1, 0.01);
      // tf.train.adam looks variables up by their engine-wide names.
      tfAdam.applyGradients(Object.entries(reference).map(([name, v]) => ({ name: v.name, tensor: g2[name] as tf.Tensor })));
      tf.dispose([...Object.values(g1), ...Object.values(g2)]);
    }
    const [ourKernel, ourBias] = await values(ours);
    const [refKernel, refBias] = await values(reference);
    expect(ourKernel).toEqual(refKernel);
    expect(ourBias).toEqual(refBias);
    expect(adam.iterations).toBe(12);
    adam.dispose();
    tfAdam.dispose();
    tf.dispose([...Object.values(ours), ...Object.values(reference)]);
  });

  it("restores a state so that later updates are identical", async () => {
    const straight = makeVariables();
    const adam = new Adam(straight);
    // 8 updates: there 0.9^9 as a float32 running product differs from pow(0.9, 9),
    // so restoring the beta powers any way but exactly would show.
    for (let step = 0; step < 8; step++) adam.apply(seededGradients(straight, step), 0.05);
    const saved = await adam.state();
    const savedWeights = await values(straight);

    const resumed: Record<string, tf.Variable> = {
      kernel: tf.variable(tf.tensor(savedWeights[0] as Float32Array, [5, 3])),
      bias: tf.variable(tf.tensor(savedWeights[1] as Float32Array, [3])),
    };
    const adamResumed = new Adam(resumed);
    adamResumed.restore(saved, "memory");
    expect(await adamResumed.state()).toEqual(saved);
    for (let step = 8; step < 15; step++) {
      const g = seededGradients(straight, step);
      adam.apply(g, 0.05);
      adamResumed.apply(g, 0.05);
      tf.dispose(Object.values(g));
    }
    expect(await values(resumed)).toEqual(await values(straight));
    expect(adamResumed.iterations).toBe(15);
    expect(await adamResumed.state()).toEqual(await adam.state());
    adam.dispose();
    adamResumed.dispose();
    tf.dispose([...Object.values(straight), ...Object.values(resumed)]);
  });
});
