import * as tf from "@tensorflow/tfjs-core";
import { orderedBatches, type Mnist } from "@mnist/data";
import { SequenceClassifier } from "@mnist/rnn";
import { beforeAll, describe, expect, it } from "vitest";
import { hiddenStates } from "./hidden-states.js";
import { BACKENDS, firstImages, realMnist, useBackend } from "./mnist.test-support.js";

let mnist: Mnist;
beforeAll(async () => {
  mnist = await realMnist();
});

describe.each(BACKENDS)("hiddenStates on %s", (backend) => {
  beforeAll(() => useBackend(backend));

  it("gives lastHidden() and the logits' class of the first test digits, whatever the batch size", async () => {
    const model = SequenceClassifier.create({ hiddenSize: 12, seed: 3 });
    const split = firstImages(mnist.test, 30);
    const before = tf.memory().numTensors;
    const states = await hiddenStates(model, mnist.test, 30, 7);
    expect(tf.memory().numTensors).toBe(before);
    expect(states.count).toBe(30);
    expect(states.values.length).toBe(30 * 12);
    expect(Array.from(states.labels)).toEqual(Array.from(split.labels));

    const [batch] = [...orderedBatches(split, 30)];
    const images = tf.tensor3d(batch!.images, [30, 28, 28]);
    const expected = model.lastHidden(images);
    const logits = model.logits(images);
    const expectedValues = await expected.data();
    Array.from(states.values).forEach((v, k) => expect(v).toBeCloseTo(expectedValues[k]!, 5));
    const classes = tf.argMax(logits, 1);
    expect(Array.from(states.predictions)).toEqual(Array.from(await classes.data()));
    tf.dispose([images, expected, logits, classes]);

    const oneBatch = await hiddenStates(model, mnist.test, 30, 100);
    expect(Array.from(oneBatch.predictions)).toEqual(Array.from(states.predictions));
    // More than the split holds: all of it.
    expect((await hiddenStates(model, split, 1000)).count).toBe(30);
    model.dispose();
  });
});
