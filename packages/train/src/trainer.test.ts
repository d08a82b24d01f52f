import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import type { Mnist } from "@mnist/data";
import { SequenceClassifier } from "@mnist/rnn";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CheckpointError, ConfigError, DivergenceError } from "./errors.js";
import { evaluate } from "./evaluate.js";
import { formatIterationLine } from "./format.js";
import type { TrainHooks } from "./hooks.js";
import { BACKENDS, firstImages, realMnist, useBackend } from "./mnist.test-support.js";
import { Trainer, type StepEvent } from "./trainer.js";

let mnist: Mnist;
const temporaryDirs: string[] = [];

async function temporaryDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "mnist-train-"));
  temporaryDirs.push(dir);
  return dir;
}

async function weights(model: SequenceClassifier): Promise<Record<string, Float32Array>> {
  const out: Record<string, Float32Array> = {};
  for (const [name, variable] of Object.entries(model.variables)) out[name] = Float32Array.from(await variable.data());
  return out;
}

/** A budget of exactly `steps` steps under the tutorial's rule step * batchSize < trainingIters. */
function itersFor(steps: number, batchSize: number): number {
  return steps * batchSize + 1;
}

beforeAll(async () => {
  await useBackend("cpu");
  mnist = await realMnist();
});

afterEach(async () => {
  await Promise.all(temporaryDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("Trainer on real MNIST digits", () => {
  it("learns: 60 steps lower the held-out loss and lift accuracy well above chance", async () => {
    const model = SequenceClassifier.create({ hiddenSize: 16, seed: 1 });
    const trainer = new Trainer(model, firstImages(mnist.train, 5000), {
      batchSize: 32,
      learningRate: 0.02,
      trainingIters: itersFor(60, 32),
    });
    const heldOut = firstImages(mnist.test, 500);
    const before = await evaluate(model, heldOut);
    const result = await trainer.run();
    const after = await evaluate(model, heldOut);
    expect(result).toMatchObject({ steps: 60, stoppedEarly: false });
    expect(before.loss).toBeGreaterThan(2.1); // about ln(10) untrained
    expect(after.loss).toBeLessThan(0.75 * before.loss);
    expect(after.accuracy).toBeGreaterThan(0.3); // chance is 0.1
    trainer.dispose();
    model.dispose();
  });

  it("calls each hook at the tutorial's steps, with the tutorial's line", async () => {
    const model = SequenceClassifier.create({ hiddenSize: 8, seed: 2 });
    const calls: Record<string, number[]> = { step: [], log: [], summary: [], checkpoint: [], evaluate: [] };
    const events: StepEvent[] = [];
    const lines: string[] = [];
    const hooks: TrainHooks = {
      onStep(e) {
        calls.step?.push(e.step);
        events.push(e);
      },
      onLog(e) {
        calls.log?.push(e.step);
        lines.push(e.line);
      },
      onSummary: (e) => void calls.summary?.push(e.step),
      onCheckpoint: (e) => void calls.checkpoint?.push(e.step),
      onEvaluate(e) {
        calls.evaluate?.push(e.step);
        expect(e.split).toBe("test");
        expect(e.count).toBe(50);
      },
    };
    const config = { batchSize: 8, trainingIters: itersFor(12, 8), displayStep: 3, summaryStep: 5 };
    const trainer = new Trainer(model, firstImages(mnist.train, 40), config, hooks);
    expect(trainer.totalSteps).toBe(12);
    await trainer.run({ checkpointDir: await temporaryDir(), checkpointEvery: 4 });
    await trainer.evaluate(firstImages(mnist.test, 50));

    expect(calls.step).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(calls.log).toEqual([3, 6, 9, 12]);
    expect(calls.summary).toEqual([5, 10]);
    expect(calls.checkpoint).toEqual([4, 8, 12]); // the final checkpoint is not written twice
    expect(calls.evaluate).toEqual([12]);
    for (const e of events) {
      expect(e.samples).toBe(e.step * 8);
      expect(e.epoch).toBe(Math.floor((e.step * 8) / 40));
      expect(e.samplesPerSecond).toBeGreaterThan(0);
      expect(e.accuracy * 8).toBeCloseTo(Math.round(e.accuracy * 8), 5); // a count out of 8 images
    }
    const logged = events.filter((e) => e.step % 3 === 0);
    expect(lines).toEqual(logged.map((e) => formatIterationLine(e.samples, e.loss, e.accuracy)));
    expect(lines[0]).toMatch(/^Iteration 24, Minibatch Loss= \d+\.\d{6}, Training Accuracy= \d\.\d{5}$/);
    trainer.dispose();
    model.dispose();
  });

  it("throws DivergenceError naming the step of a non-finite loss and keeps the last good checkpoint", async () => {
    const train = firstImages(mnist.train, 200);
    const model = SequenceClassifier.create({ hiddenSize: 8, seed: 4 });
    // Adam moves each weight by at most about the learning rate per step, so lr 1e6 only gives
    // losses near 1e6 that stay finite; 1e38 overflows float32 once the weights are that large.
    const trainer = new Trainer(model, train, { batchSize: 16, learningRate: 1e38, trainingIters: itersFor(20, 16) });
    const dir = await temporaryDir();
    const error = await trainer.run({ checkpointDir: dir, checkpointEvery: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DivergenceError);
    const divergence = error as DivergenceError;
    expect(Number.isFinite(divergence.loss)).toBe(false);
    expect(divergence.step).toBe(trainer.completedSteps + 1);
    expect(divergence.step).toBeGreaterThan(1);
    expect(divergence.message).toContain(`step ${divergence.step}`);

    const entries = (await readdir(dir)).sort();
    expect(entries).toHaveLength(2); // latest.json and one complete step folder
    const resumed = await Trainer.resume(dir, train);
    expect(resumed.completedSteps).toBe(divergence.step - 1);
    expect(await weights(resumed.model)).toEqual(await weights(model));
    resumed.dispose();
    resumed.model.dispose();
    trainer.dispose();
    model.dispose();
  });

});

describe.each(BACKENDS)("Trainer on the %s backend", (backend) => {
  beforeAll(() => useBackend(backend));
  afterAll(() => useBackend("cpu"));

  it("stops on abort after the current step and resumes into the same run, bit for bit", async () => {
    // 100 images in batches of 16: the epoch ends during step 7, after the resume at step 5.
    const train = firstImages(mnist.train, 100);
    const config = { batchSize: 16, trainingIters: itersFor(10, 16), learningRate: 0.01, seed: 5 };

    const straightModel = SequenceClassifier.create({ hiddenSize: 8, seed: 3 });
    const straightLosses: number[] = [];
    const straight = new Trainer(straightModel, train, config, { onStep: (e) => void straightLosses.push(e.loss) });
    expect(await straight.run()).toMatchObject({ steps: 10, stoppedEarly: false });

    const dir = await temporaryDir();
    const firstModel = SequenceClassifier.create({ hiddenSize: 8, seed: 3 });
    const losses: number[] = [];
    const controller = new AbortController();
    const first = new Trainer(firstModel, train, config, {
      onStep(e) {
        losses.push(e.loss);
        // Step 5: Adam's beta2^6 is one where pow() and the running product differ.
        if (e.step === 5) controller.abort();
      },
    });
    expect(await first.run({ signal: controller.signal, checkpointDir: dir })).toMatchObject({ steps: 5, stoppedEarly: true });
    first.dispose();
    firstModel.dispose();

    const resumed = await Trainer.resume(dir, train, { onStep: (e) => void losses.push(e.loss) });
    expect(resumed.completedSteps).toBe(5);
    expect(resumed.config).toEqual(straight.config);
    expect(await resumed.run()).toMatchObject({ steps: 5, stoppedEarly: false });

    expect(losses).toEqual(straightLosses);
    expect(await weights(resumed.model)).toEqual(await weights(straightModel));
    resumed.dispose();
    resumed.model.dispose();
    straight.dispose();
    straightModel.dispose();
  });

  it("extends a finished run with a larger sample budget into the same run as a straight one", async () => {
    const train = firstImages(mnist.train, 100);
    const config = { batchSize: 16, learningRate: 0.01, seed: 7 };

    const straightModel = SequenceClassifier.create({ hiddenSize: 8, seed: 4 });
    const straight = new Trainer(straightModel, train, { ...config, trainingIters: itersFor(8, 16) });
    await straight.run();

    const dir = await temporaryDir();
    const firstModel = SequenceClassifier.create({ hiddenSize: 8, seed: 4 });
    const first = new Trainer(firstModel, train, { ...config, trainingIters: itersFor(4, 16) });
    expect(await first.run({ checkpointDir: dir })).toMatchObject({ steps: 4, stoppedEarly: false });
    first.dispose();
    firstModel.dispose();

    const resumed = await Trainer.resume(dir, train, {}, { trainingIters: itersFor(8, 16) });
    expect(resumed.totalSteps).toBe(8);
    expect(await resumed.run()).toMatchObject({ steps: 4 });
    expect(await weights(resumed.model)).toEqual(await weights(straightModel));
    resumed.dispose();
    resumed.model.dispose();
    straight.dispose();
    straightModel.dispose();
  });

  it("keeps the tensor count flat over 50 steps, an evaluation, a prediction and a checkpoint", async () => {
    const model = SequenceClassifier.create({ hiddenSize: 8, seed: 6 });
    const trainer = new Trainer(model, firstImages(mnist.train, 400), { batchSize: 16 });
    const heldOut = firstImages(mnist.test, 100);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) await trainer.step();
    await trainer.evaluate(heldOut);
    const images = tf.tensor3d(new Float32Array(3 * 28 * 28).fill(0.5), [3, 28, 28]);
    tf.dispose([model.predict(images), images]);
    await trainer.saveCheckpoint(await temporaryDir());
    expect(tf.memory().numTensors).toBe(before);
    trainer.dispose();
    model.dispose();
  });
});

describe("setup errors", () => {
  it("sizes the budget from samples or epochs; rejects a mismatched model and checkpointEvery without a folder", async () => {
    const model = SequenceClassifier.create({ hiddenSize: 8, steps: 14, inputSize: 56 });
    expect(() => new Trainer(model, firstImages(mnist.train, 10))).toThrow(ConfigError);
    model.dispose();
    const fitting = SequenceClassifier.create({ hiddenSize: 8 });
    const trainer = new Trainer(fitting, firstImages(mnist.train, 10), { batchSize: 5 });
    expect(trainer.totalSteps).toBe(Math.floor((100_000 - 1) / 5));
    const byEpochs = new Trainer(fitting, firstImages(mnist.train, 10), { batchSize: 4, epochs: 3 });
    expect(byEpochs.totalSteps).toBe(8); // 30 images in batches of 4
    byEpochs.dispose();
    await expect(trainer.run({ checkpointEvery: 2 })).rejects.toThrow(/checkpointEvery/);
    expect(trainer.completedSteps).toBe(0);
    trainer.dispose();
    fitting.dispose();
  });
});

describe("checkpoint folder", () => {
  it("holds one complete checkpoint whose model loads on its own; stale temporaries are ignored and removed", async () => {
    const train = firstImages(mnist.train, 64);
    const model = SequenceClassifier.create({ hiddenSize: 8, seed: 7 });
    const trainer = new Trainer(model, train, { batchSize: 16 });
    const dir = await temporaryDir();
    await trainer.step();
    await trainer.saveCheckpoint(dir);
    // What a crash in the middle of the next save would leave behind.
    await mkdir(join(dir, ".tmp-step-000002-crashed"));
    await writeFile(join(dir, ".tmp-step-000002-crashed", "optimizer.bin"), new Uint8Array(3));

    const resumed = await Trainer.resume(dir, train);
    expect(resumed.completedSteps).toBe(1);
    resumed.dispose();
    resumed.model.dispose();

    await trainer.step();
    await trainer.saveCheckpoint(dir);
    const entries = await readdir(dir);
    expect(entries.filter((name) => name !== "latest.json")).toEqual([expect.stringMatching(/^step-000002-/)]);
    const standalone = await SequenceClassifier.load(join(dir, entries.find((n) => n.startsWith("step-")) ?? "", "model"));
    expect(await weights(standalone)).toEqual(await weights(model));
    standalone.dispose();
    trainer.dispose();
    model.dispose();
  });

  it("refuses a folder without a checkpoint and a split of another size", async () => {
    const empty = await temporaryDir();
    await expect(Trainer.resume(empty, mnist.train)).rejects.toThrow(CheckpointError);
    await expect(Trainer.resume(empty, mnist.train)).rejects.toThrow(/latest\.json/);

    const train = firstImages(mnist.train, 64);
    const model = SequenceClassifier.create({ hiddenSize: 8, seed: 8 });
    const trainer = new Trainer(model, train, { batchSize: 16 });
    const dir = await temporaryDir();
    await trainer.saveCheckpoint(dir);
    await expect(Trainer.resume(dir, firstImages(mnist.train, 65))).rejects.toThrow(/64 images/);
    trainer.dispose();
    model.dispose();
  });
});
