import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { Batcher, type Mnist, type MnistSplit } from "@mnist/data";
import { SequenceClassifier } from "@mnist/rnn";
import { loadModel } from "@mnist/rnn/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { checkpointModelFolder, checkpointWriter } from "./checkpoint.js";
import { learningRateAt, resolveTrainConfig } from "./config.js";
import { CheckpointError, ConfigError, DivergenceError } from "./errors.js";
import { evaluate } from "./evaluate.js";
import { formatIterationLine } from "./format.js";
import type { TrainHooks } from "./hooks.js";
import { minibatchGradients } from "./minibatch.js";
import { BACKENDS, firstImages, imagesFrom, realMnist, useBackend } from "./mnist.test-support.js";
import { resumeTrainer, saveInto } from "./resume.test-support.js";
import { Trainer, type StepEvent, type ValidationRecord } from "./trainer.js";

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

/** ||a - b||_2 / ||b||_2 over all variables together. */
function relativeError(a: Record<string, ArrayLike<number>>, b: Record<string, ArrayLike<number>>): number {
  let difference = 0;
  let norm = 0;
  for (const [name, values] of Object.entries(b)) {
    const other = a[name] ?? [];
    for (let i = 0; i < values.length; i++) {
      difference += ((other[i] ?? Number.NaN) - (values[i] ?? 0)) ** 2;
      norm += (values[i] ?? 0) ** 2;
    }
  }
  return Math.sqrt(difference / norm);
}

/** after - before, per variable. */
function change(after: Record<string, Float32Array>, before: Record<string, ArrayLike<number>>): Record<string, number[]> {
  return Object.fromEntries(Object.entries(after).map(([name, values]) => [name, Array.from(values, (v, i) => v - (before[name]?.[i] ?? Number.NaN))]));
}

/** The validation run({ keepBest }) must keep: the first one of the highest accuracy. */
function firstBest(validations: ValidationRecord[]): ValidationRecord | undefined {
  return validations.reduce<ValidationRecord | undefined>((best, v) => (best === undefined || v.accuracy > best.accuracy ? v : best), undefined);
}

/** Validation images held out of the training images the tests use (they train on the first few thousand at most). */
function heldOutTraining(count: number): MnistSplit {
  return imagesFrom(mnist.train, 50_000, count);
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
    const trainer = new Trainer(model, firstImages(mnist.train, 40), config, { hooks });
    expect(trainer.totalSteps).toBe(12);
    await trainer.run({ checkpoint: checkpointWriter(await temporaryDir()), checkpointEvery: 4 });
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
    const error = await trainer.run({ checkpoint: checkpointWriter(dir), checkpointEvery: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DivergenceError);
    const divergence = error as DivergenceError;
    expect(Number.isFinite(divergence.loss)).toBe(false);
    expect(divergence.step).toBe(trainer.completedSteps + 1);
    expect(divergence.step).toBeGreaterThan(1);
    expect(divergence.message).toContain(`step ${divergence.step}`);

    const entries = (await readdir(dir)).sort();
    expect(entries).toHaveLength(2); // latest.json and one complete step folder
    const resumed = await resumeTrainer(dir, train);
    expect(resumed.completedSteps).toBe(divergence.step - 1);
    expect(await weights(resumed.model)).toEqual(await weights(model));
    resumed.dispose();
    resumed.model.dispose();
    trainer.dispose();
    model.dispose();
  });

});

describe("dropout", () => {
  it("trains each step with the mask of (seed, step): another run than without dropout, the same run for the same seed", async () => {
    const train = firstImages(mnist.train, 200);
    const config = { batchSize: 16, learningRate: 0.01, trainingIters: itersFor(6, 16), seed: 8 };
    const run = async (dropout: number): Promise<{ losses: number[]; weights: Record<string, Float32Array> }> => {
      const model = SequenceClassifier.create({ hiddenSize: 16, seed: 9 });
      const losses: number[] = [];
      const trainer = new Trainer(model, train, { ...config, dropout }, { hooks: { onStep: (e) => void losses.push(e.loss) } });
      await trainer.run();
      const result = { losses, weights: await weights(model) };
      trainer.dispose();
      model.dispose();
      return result;
    };
    const plain = await run(0);
    const dropped = await run(0.5);
    expect(await run(0.5)).toEqual(dropped);
    expect(dropped.losses[0]).not.toBe(plain.losses[0]);
    expect(relativeError(dropped.weights, plain.weights)).toBeGreaterThan(1e-3);

    // Step 1's loss is the model's loss under the mask of (seed 8, step 1), and no other step's.
    const model = SequenceClassifier.create({ hiddenSize: 16, seed: 9 });
    const batch = new Batcher(train, { seed: 8, shuffle: true }).nextBatch(16);
    const lossAt = async (step: number): Promise<number> => {
      const { loss, gradients } = await minibatchGradients(model, { ...batch, dropout: { rate: 0.5, seed: 8, step, firstExample: 0 } });
      tf.dispose(gradients);
      return loss;
    };
    expect(await lossAt(1)).toBe(dropped.losses[0]);
    expect(await lossAt(2)).not.toBe(dropped.losses[0]);
    model.dispose();
  });
});

describe("learning-rate schedule and gradient clipping", () => {
  it("clips by the global norm before Adam at the scheduled rates, as a plain double-precision loop computes; no clipping below clipNorm", async () => {
    const train = firstImages(mnist.train, 200);
    const base = { batchSize: 16, learningRate: 0.02, trainingIters: itersFor(4, 16), seed: 3, warmupSteps: 2, decay: "cosine" as const, minLearningRate: 0.002 };
    const clipNorm = 0.1; // the gradients' global norms here are 0.2 to 0.7
    const run = async (config: Parameters<typeof resolveTrainConfig>[0]): Promise<{ events: StepEvent[]; weights: Record<string, Float32Array> }> => {
      const model = SequenceClassifier.create({ hiddenSize: 8, seed: 12 });
      const events: StepEvent[] = [];
      const trainer = new Trainer(model, train, config, { hooks: { onStep: (e) => void events.push(e) } });
      await trainer.run();
      const result = { events, weights: await weights(model) };
      trainer.dispose();
      model.dispose();
      return result;
    };
    const clipped = await run({ ...base, clipNorm });
    const unclipped = await run(base);

    // The reference: the same batches and gradient function, then clipping and Adam in plain doubles.
    const model = SequenceClassifier.create({ hiddenSize: 8, seed: 12 });
    const initial = await weights(model);
    const w = Object.fromEntries(Object.entries(initial).map(([name, values]) => [name, Float64Array.from(values)]));
    const m = Object.fromEntries(Object.entries(w).map(([name, values]) => [name, new Float64Array(values.length)]));
    const v = Object.fromEntries(Object.entries(w).map(([name, values]) => [name, new Float64Array(values.length)]));
    const epsilon = tf.backend().epsilon();
    const config = resolveTrainConfig(base);
    const batcher = new Batcher(train, { seed: 3, shuffle: true });
    for (let t = 1; t <= 4; t++) {
      tf.tidy(() => {
        for (const [name, variable] of Object.entries(model.variables)) variable.assign(tf.tensor(Float32Array.from(w[name] ?? []), variable.shape));
      });
      const { gradients } = await minibatchGradients(model, batcher.nextBatch(16));
      const g: Record<string, Float32Array> = {};
      for (const [name, gradient] of Object.entries(gradients)) g[name] = Float32Array.from(await gradient.data());
      tf.dispose(gradients);
      const norm = Math.sqrt(Object.values(g).reduce((sum, values) => values.reduce((s, x) => s + x * x, sum), 0));
      const event = clipped.events[t - 1] as StepEvent;
      expect(Math.abs(event.gradientNorm - norm) / norm, `norm at step ${t}`).toBeLessThan(1e-5);
      expect(norm).toBeGreaterThan(clipNorm);
      const rate = learningRateAt(config, t, 4);
      expect(event.learningRate).toBe(rate);
      for (const [name, values] of Object.entries(w)) {
        const [gs, ms, vs] = [g[name] ?? [], m[name] ?? [], v[name] ?? []];
        for (let i = 0; i < values.length; i++) {
          const x = ((gs[i] ?? 0) * clipNorm) / norm;
          ms[i] = 0.9 * (ms[i] ?? 0) + 0.1 * x;
          vs[i] = 0.999 * (vs[i] ?? 0) + 0.001 * x * x;
          const corrected = (ms[i] ?? 0) / (1 - 0.9 ** t);
          values[i] = (values[i] ?? 0) - (rate * corrected) / (Math.sqrt((vs[i] ?? 0) / (1 - 0.999 ** t)) + epsilon);
        }
      }
    }
    model.dispose();
    expect(clipped.events.map((e) => e.learningRate)).toEqual([0.01, 0.02, 0.02, 0.002]);
    const referenceChange = change(Object.fromEntries(Object.entries(w).map(([name, values]) => [name, Float32Array.from(values)])), initial);
    const clippedError = relativeError(change(clipped.weights, initial), referenceChange);
    const unclippedError = relativeError(change(unclipped.weights, initial), referenceChange);
    expect(clippedError).toBeLessThan(1e-4);
    expect(unclippedError).toBeGreaterThan(100 * clippedError); // the comparison can tell clipping apart

    // Just above the largest norm of the run, clipping never triggers: bit for bit the unclipped run.
    const largest = Math.max(...unclipped.events.map((e) => e.gradientNorm));
    const above = await run({ ...base, clipNorm: largest * (1 + 1e-6) });
    expect(above.weights).toEqual(unclipped.weights);
    expect(above.events.map((e) => e.gradientNorm)).toEqual(unclipped.events.map((e) => e.gradientNorm));
  });
});

describe("validation during training", () => {
  it("validates once per epoch and at the last step, reports each to onEvaluate, and keeps and restores the best weights", async () => {
    const train = firstImages(mnist.train, 96); // 6 steps of 16 per epoch
    const validation = heldOutTraining(300);
    const model = SequenceClassifier.create({ hiddenSize: 8, seed: 13 });
    const seen: { split: string; step: number; epoch: number; accuracy: number; loss: number }[] = [];
    const trainer = new Trainer(model, train, { batchSize: 16, learningRate: 0.03, trainingIters: itersFor(15, 16) }, {
      hooks: { onEvaluate: ({ split, step, epoch, accuracy, loss }) => void seen.push({ split, step, epoch, accuracy, loss }) },
    });
    expect(trainer.restoreBest()).toBe(false);
    const result = await trainer.run({ validation, keepBest: true });
    expect(result.validations.map((v) => [v.step, v.epoch])).toEqual([[6, 1], [12, 2], [15, 2]]);
    expect(seen).toEqual(result.validations.map((v) => ({ split: "validation", ...v })));
    expect(result.best).toEqual(firstBest(result.validations));
    expect(trainer.best).toEqual(result.best);
    expect(trainer.completedEpochs).toBe(2); // 240 images served out of 96

    for (let i = 0; i < 3; i++) await trainer.step(); // move the weights on past every validation
    const moved = await weights(model);
    expect(trainer.restoreBest()).toBe(true);
    expect(await weights(model)).not.toEqual(moved);
    const again = await evaluate(model, validation);
    expect([again.accuracy, again.loss]).toEqual([result.best?.accuracy, result.best?.loss]);
    trainer.dispose();
    model.dispose();
  });

  it("keeps the earlier of equal validations (ties do not replace the best)", async () => {
    // A learning rate too small to change any prediction: every validation ties.
    const model = SequenceClassifier.create({ hiddenSize: 8, seed: 14 });
    const trainer = new Trainer(model, firstImages(mnist.train, 64), { batchSize: 16, learningRate: 1e-7, trainingIters: itersFor(4, 16) });
    const result = await trainer.run({ validation: heldOutTraining(50), validateEvery: 1, keepBest: true });
    expect(new Set(result.validations.map((v) => v.accuracy)).size).toBe(1);
    expect(result.validations.map((v) => v.step)).toEqual([1, 2, 3, 4]);
    expect(result.best?.step).toBe(1);
    trainer.dispose();
    model.dispose();
  });

  it("rejects validateEvery or keepBest without a validation split, a bad validateEvery and a split of other images", async () => {
    const model = SequenceClassifier.create({ hiddenSize: 8, seed: 15 });
    const trainer = new Trainer(model, firstImages(mnist.train, 32), { batchSize: 16 });
    await expect(trainer.run({ keepBest: true })).rejects.toThrow(ConfigError);
    await expect(trainer.run({ validateEvery: 2 })).rejects.toThrow(/validation/);
    await expect(trainer.run({ validation: heldOutTraining(10), validateEvery: 0 })).rejects.toThrow(/validateEvery: expected a positive integer/);
    await expect(trainer.run({ validation: heldOutTraining(0) })).rejects.toThrow(/at least one image/);
    const wide = { ...heldOutTraining(10), rows: 14, cols: 56 };
    await expect(trainer.run({ validation: wide })).rejects.toThrow(/validation split.*14 x 56/);
    expect(trainer.completedSteps).toBe(0);
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
    const straight = new Trainer(straightModel, train, config, { hooks: { onStep: (e) => void straightLosses.push(e.loss) } });
    expect(await straight.run()).toMatchObject({ steps: 10, stoppedEarly: false });

    const dir = await temporaryDir();
    const firstModel = SequenceClassifier.create({ hiddenSize: 8, seed: 3 });
    const losses: number[] = [];
    const controller = new AbortController();
    const first = new Trainer(firstModel, train, config, {
      hooks: {
        onStep(e) {
          losses.push(e.loss);
          // Step 5: Adam's beta2^6 is one where pow() and the running product differ.
          if (e.step === 5) controller.abort();
        },
      },
    });
    expect(await first.run({ signal: controller.signal, checkpoint: checkpointWriter(dir) })).toMatchObject({ steps: 5, stoppedEarly: true });
    first.dispose();
    firstModel.dispose();

    const resumed = await resumeTrainer(dir, train, { hooks: { onStep: (e) => void losses.push(e.loss) } });
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

  it("resumes a run with warm-up, cosine decay, clipping, dropout, validation and kept best weights into the same run, best included", async () => {
    const train = firstImages(mnist.train, 100);
    const validation = heldOutTraining(200);
    // Seed 6: its run validates best at step 9, where the run is interrupted (asserted below).
    const config = { batchSize: 16, trainingIters: itersFor(12, 16), learningRate: 0.03, seed: 6, warmupSteps: 3, decay: "cosine" as const, minLearningRate: 0.003, clipNorm: 0.45, dropout: 0.3, maxShift: 2 };
    const options = { validation, validateEvery: 3, keepBest: true };
    const record = (into: StepEvent[]) => ({ onStep: (e: StepEvent) => void into.push({ ...e, samplesPerSecond: 0 }) });

    const straightModel = SequenceClassifier.create({ hiddenSize: 8, seed: 3 });
    const straightEvents: StepEvent[] = [];
    const straight = new Trainer(straightModel, train, config, { hooks: record(straightEvents) });
    const straightResult = await straight.run(options);
    expect(straightEvents.some((e) => e.gradientNorm > 0.45) && straightEvents.some((e) => e.gradientNorm < 0.45)).toBe(true);

    const dir = await temporaryDir();
    const firstModel = SequenceClassifier.create({ hiddenSize: 8, seed: 3 }, { metadata: { pixels: "rows" } });
    const events: StepEvent[] = [];
    const controller = new AbortController();
    const first = new Trainer(firstModel, train, config, {
      hooks: {
        onStep(e) {
          events.push({ ...e, samplesPerSecond: 0 });
          if (e.step === 9) controller.abort();
        },
      },
    });
    // Step 9 validates and checkpoints (checkpointEvery): the checkpoint must come after the validation.
    const firstResult = await first.run({ ...options, signal: controller.signal, checkpoint: checkpointWriter(dir), checkpointEvery: 3 });
    expect(firstResult).toMatchObject({ steps: 9, stoppedEarly: true });
    expect(firstResult.best?.step).toBe(9);
    // The checkpoint's best/ folder holds exactly the kept weights, as a model of its own.
    first.restoreBest();
    const savedBest = await loadModel(join(await checkpointModelFolder(dir), "..", "best"));
    expect(await weights(savedBest)).toEqual(await weights(firstModel));
    expect(savedBest.metadata).toEqual({ pixels: "rows" });
    savedBest.dispose();
    first.dispose();
    firstModel.dispose();

    const resumed = await resumeTrainer(dir, train, { hooks: record(events) });
    expect(resumed.config).toEqual(straight.config);
    expect(resumed.best).toEqual(firstResult.best);
    const resumedResult = await resumed.run(options);
    expect(events).toEqual(straightEvents);
    expect([...firstResult.validations, ...resumedResult.validations]).toEqual(straightResult.validations);
    expect(resumedResult.best).toEqual(straightResult.best);
    expect(await weights(resumed.model)).toEqual(await weights(straightModel));
    expect(resumed.restoreBest() && straight.restoreBest()).toBe(true);
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
    expect(await first.run({ checkpoint: checkpointWriter(dir) })).toMatchObject({ steps: 4, stoppedEarly: false });
    first.dispose();
    firstModel.dispose();

    const resumed = await resumeTrainer(dir, train, {}, { trainingIters: itersFor(8, 16) });
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
    await saveInto(trainer, await temporaryDir());
    expect(tf.memory().numTensors).toBe(before);
    trainer.dispose();
    model.dispose();
  });

  it("keeps the tensor count flat over a run with a schedule, clipping, dropout, validations and kept best weights; dispose() frees all the trainer made", async () => {
    const model = SequenceClassifier.create({ hiddenSize: 8, seed: 6 });
    const initial = tf.memory().numTensors;
    const controller = new AbortController();
    let clipped = 0;
    const config = { batchSize: 16, learningRate: 0.01, trainingIters: itersFor(40, 16), warmupSteps: 5, decay: "step" as const, clipNorm: 0.3, dropout: 0.2, maxShift: 1 };
    const trainer = new Trainer(model, firstImages(mnist.train, 400), config, {
      hooks: {
        onStep(e) {
          if (e.gradientNorm > 0.3) clipped += 1;
          if (e.step === 10) controller.abort();
        },
      },
    });
    const options = { validation: heldOutTraining(100), validateEvery: 5, keepBest: true };
    await trainer.run({ ...options, signal: controller.signal });
    const before = tf.memory().numTensors;
    const result = await trainer.run(options);
    expect(result.best?.step).toBeGreaterThan(10); // the kept copy was replaced after the count was taken
    expect(clipped).toBeGreaterThan(0);
    expect(trainer.restoreBest()).toBe(true);
    await saveInto(trainer, await temporaryDir());
    expect(tf.memory().numTensors).toBe(before);
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(initial);
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
    await saveInto(trainer, dir);
    // What a crash in the middle of the next save would leave behind.
    await mkdir(join(dir, ".tmp-step-000002-crashed"));
    await writeFile(join(dir, ".tmp-step-000002-crashed", "optimizer.bin"), new Uint8Array(3));

    const resumed = await resumeTrainer(dir, train);
    expect(resumed.completedSteps).toBe(1);
    resumed.dispose();
    resumed.model.dispose();

    await trainer.step();
    await saveInto(trainer, dir);
    const entries = await readdir(dir);
    expect(entries.filter((name) => name !== "latest.json")).toEqual([expect.stringMatching(/^step-000002-/)]);
    const standalone = await loadModel(join(dir, entries.find((n) => n.startsWith("step-")) ?? "", "model"));
    expect(await weights(standalone)).toEqual(await weights(model));
    standalone.dispose();
    trainer.dispose();
    model.dispose();
  });

  it("refuses a folder without a checkpoint and a split of another size", async () => {
    const empty = await temporaryDir();
    await expect(resumeTrainer(empty, mnist.train)).rejects.toThrow(CheckpointError);
    await expect(resumeTrainer(empty, mnist.train)).rejects.toThrow(/latest\.json/);

    const train = firstImages(mnist.train, 64);
    const model = SequenceClassifier.create({ hiddenSize: 8, seed: 8 });
    const trainer = new Trainer(model, train, { batchSize: 16 });
    const dir = await temporaryDir();
    await saveInto(trainer, dir);
    await expect(resumeTrainer(dir, firstImages(mnist.train, 65))).rejects.toThrow(/64 images/);
    trainer.dispose();
    model.dispose();
  });
});
