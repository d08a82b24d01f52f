import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import { orderedBatches, type Mnist } from "@mnist/data";
import { SequenceClassifier } from "@mnist/rnn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveTrainConfig } from "./config.js";
import { ConfigError, WorkerThreadError } from "./errors.js";
import { evaluate } from "./evaluate.js";
import { minibatchGradients } from "./minibatch.js";
import { BACKENDS, firstImages, imagesFrom, realMnist, useBackend } from "./mnist.test-support.js";
import { buildParallelScripts, type BuiltScripts } from "./parallel.test-support.js";
import { resumeTrainer, saveInto } from "./resume.test-support.js";
import { Trainer, type StepEvent } from "./trainer.js";
import { WorkerPool } from "./worker-pool.js";
import { startWorkerThread, workerThreads } from "./worker-threads.js";

let mnist: Mnist;
let scripts: BuiltScripts;

beforeAll(async () => {
  [mnist, scripts] = await Promise.all([realMnist(), buildParallelScripts()]);
});

afterAll(async () => {
  await scripts.remove();
});

/** ||a - b||_2 / ||b||_2 */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let difference = 0;
  let norm = 0;
  for (let i = 0; i < b.length; i++) {
    difference += ((a[i] ?? 0) - (b[i] ?? 0)) ** 2;
    norm += (b[i] ?? 0) ** 2;
  }
  return Math.sqrt(difference / norm);
}

/** The worker-thread GradientSource of `threads` threads for minibatches of up to `maxBatch` images. */
function workerPool(model: SequenceClassifier, threads: number, maxBatch: number): WorkerPool {
  return workerThreads({ threads, workerScript: scripts.worker })(model, resolveTrainConfig({ batchSize: maxBatch })) as WorkerPool;
}

/** TrainerOptions.gradients on 2 threads with the worker script built from source. */
function twoThreads(): ReturnType<typeof workerThreads> {
  return workerThreads({ threads: 2, workerScript: scripts.worker });
}

async function weights(model: SequenceClassifier): Promise<Record<string, Float32Array>> {
  const out: Record<string, Float32Array> = {};
  for (const [name, variable] of Object.entries(model.variables)) out[name] = Float32Array.from(await variable.data());
  return out;
}

describe.each(BACKENDS)("worker threads on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  // Float32 tolerance: the threads sum the same per-image terms in a different order
  // (per-share means, then a weighted sum), so only the last bits may differ.
  it.each([2, 3])("the gradients of a 128-image batch shared among %i threads equal the single-thread ones (relative 1e-5)", async (threads) => {
    const model = SequenceClassifier.create({ hiddenSize: 32, seed: 3 });
    const batch = orderedBatches(firstImages(mnist.train, 128), 128)[Symbol.iterator]().next().value;
    if (batch === undefined) throw new Error("no batch");
    const pool = workerPool(model, threads, 128);
    try {
      const single = await minibatchGradients(model, batch);
      const shared = await pool.minibatch(batch);
      expect(Object.keys(shared.gradients).sort()).toEqual(Object.keys(model.variables).sort());
      for (const [name, gradient] of Object.entries(single.gradients)) {
        const parallel = shared.gradients[name];
        expect(parallel?.shape, name).toEqual(gradient.shape);
        expect(relativeError(await (parallel as tf.Tensor).data(), await gradient.data()), name).toBeLessThan(1e-5);
      }
      expect(shared.loss).toBeCloseTo(single.loss, 5);
      expect(shared.accuracy * 128).toBeCloseTo(single.accuracy * 128, 4); // the same count of right answers
      tf.dispose([single.gradients, shared.gradients]);
    } finally {
      await pool.dispose();
      model.dispose();
    }
  });
  it("with dropout, the shares of 3 threads train with the rows of the single-thread mask (relative 1e-5)", async () => {
    const model = SequenceClassifier.create({ hiddenSize: 16, seed: 10 });
    const first = orderedBatches(firstImages(mnist.train, 100), 100)[Symbol.iterator]().next().value;
    if (first === undefined) throw new Error("no batch");
    const batch = { ...first, dropout: { rate: 0.5, seed: 2, step: 7, firstExample: 0 } };
    const pool = workerPool(model, 3, 100);
    try {
      const single = await minibatchGradients(model, batch);
      const shared = await pool.minibatch(batch);
      const unmasked = await minibatchGradients(model, first);
      for (const [name, gradient] of Object.entries(single.gradients)) {
        const values = await gradient.data();
        expect(relativeError(await shared.gradients[name]!.data(), values), name).toBeLessThan(1e-5);
        expect(relativeError(await unmasked.gradients[name]!.data(), values), name).toBeGreaterThan(1e-2); // the mask matters
      }
      expect(shared.loss).toBeCloseTo(single.loss, 5);
      tf.dispose([single.gradients, shared.gradients, unmasked.gradients]);
    } finally {
      await pool.dispose();
      model.dispose();
    }
  });
});

describe("Trainer on worker threads (cpu)", () => {
  beforeAll(async () => {
    await useBackend("cpu");
  });

  const train = (): ReturnType<typeof firstImages> => firstImages(mnist.train, 2000);
  const config = { batchSize: 32, learningRate: 0.01, trainingIters: 20 * 32 + 1, seed: 4 };

  it("trains 20 steps like Trainer (losses within 1e-5), keeps the tensor count flat, and resumes bit for bit", async () => {
    const reference = new Trainer(SequenceClassifier.create({ hiddenSize: 16, seed: 5 }), train(), config);
    const referenceLosses: number[] = [];
    for (let i = 0; i < 20; i++) referenceLosses.push((await reference.step()).loss);

    const model = SequenceClassifier.create({ hiddenSize: 16, seed: 5 });
    const parallel = new Trainer(model, train(), config, { gradients: twoThreads() });
    const dir = await mkdtemp(join(tmpdir(), "mnist-parallel-"));
    try {
      const losses: number[] = [(await parallel.step()).loss];
      const tensors = tf.memory().numTensors;
      for (let i = 1; i < 10; i++) losses.push((await parallel.step()).loss);
      await saveInto(parallel, dir);
      for (let i = 10; i < 20; i++) losses.push((await parallel.step()).loss);
      expect(tf.memory().numTensors).toBe(tensors);
      losses.forEach((loss, i) => expect(Math.abs(loss - (referenceLosses[i] ?? Number.NaN)), `step ${i + 1}`).toBeLessThan(1e-5));
      const referenceWeights = await weights(reference.model);
      for (const [name, values] of Object.entries(await weights(model))) {
        expect(relativeError(values, referenceWeights[name] ?? []), name).toBeLessThan(1e-4);
      }

      const resumedLosses: number[] = [];
      const hooks = { onStep: (e: StepEvent) => void resumedLosses.push(e.loss) };
      let source: unknown;
      const gradients: ReturnType<typeof workerThreads> = (m, c) => (source = twoThreads()(m, c));
      const resumed = await resumeTrainer(dir, train(), { hooks, gradients });
      try {
        expect(source).toBeInstanceOf(WorkerPool);
        expect(resumed.completedSteps).toBe(10);
        expect(await resumed.run()).toMatchObject({ steps: 10, stoppedEarly: false });
        expect(resumedLosses).toEqual(losses.slice(10));
        expect(await weights(resumed.model)).toEqual(await weights(model));
      } finally {
        resumed.dispose();
        resumed.model.dispose();
      }
    } finally {
      parallel.dispose();
      reference.dispose();
      model.dispose();
      reference.model.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("trains with dropout like Trainer: the same masks, weights within 1e-4 after 6 steps", async () => {
    const dropoutConfig = { ...config, trainingIters: 6 * 32 + 1, dropout: 0.5 };
    const reference = new Trainer(SequenceClassifier.create({ hiddenSize: 16, seed: 11 }), train(), dropoutConfig);
    const model = SequenceClassifier.create({ hiddenSize: 16, seed: 11 });
    const parallel = new Trainer(model, train(), dropoutConfig, { gradients: twoThreads() });
    try {
      for (let i = 0; i < 6; i++) {
        const [expected, actual] = [await reference.step(), await parallel.step()];
        expect(Math.abs(actual.loss - expected.loss), `step ${i + 1}`).toBeLessThan(1e-5);
      }
      const referenceWeights = await weights(reference.model);
      for (const [name, values] of Object.entries(await weights(model))) {
        expect(relativeError(values, referenceWeights[name] ?? []), name).toBeLessThan(1e-4);
      }
    } finally {
      parallel.dispose();
      reference.dispose();
      model.dispose();
      reference.model.dispose();
    }
  });

  it("without shared memory (buffers carried by the messages) trains and evaluates bit for bit as with SharedArrayBuffers", async () => {
    const carried: ReturnType<typeof workerThreads> = (m, c) => new WorkerPool(m, 2, c.batchSize, (setup) => startWorkerThread(scripts.worker, setup), false);
    const run = async (gradients: ReturnType<typeof workerThreads>) => {
      const model = SequenceClassifier.create({ hiddenSize: 16, seed: 12 });
      const trainer = new Trainer(model, train(), { ...config, trainingIters: 5 * 32 + 1, dropout: 0.2 }, { gradients });
      try {
        const losses: number[] = [];
        for (let i = 0; i < 5; i++) losses.push((await trainer.step()).loss);
        const test = await trainer.evaluate(firstImages(mnist.test, 301));
        return { losses, weights: await weights(model), confusion: test.confusion, loss: test.loss };
      } finally {
        trainer.dispose();
        model.dispose();
      }
    };
    const [shared, messages] = [await run(twoThreads()), await run(carried)];
    expect(messages).toEqual(shared);
  });

  it("evaluates a split shared among the threads with the counts of evaluate()", async () => {
    const model = SequenceClassifier.create({ hiddenSize: 16, seed: 6 });
    const events: string[] = [];
    const trainer = new Trainer(model, train(), config, { hooks: { onEvaluate: (e) => void events.push(e.split) }, gradients: twoThreads() });
    try {
      const split = firstImages(mnist.test, 1001);
      const single = await evaluate(model, split, { batchSize: 200 });
      const progress: number[] = [];
      const shared = await trainer.evaluate(split, "test", { batchSize: 200, onProgress: (done) => void progress.push(done) });
      expect(shared.count).toBe(1001);
      // The calling thread's share of 500 in passes of 200, then the whole split.
      expect(progress).toEqual([200, 400, 500, 1001]);
      expect(shared.confusion).toEqual(single.confusion);
      expect(shared.accuracy).toBe(single.accuracy);
      expect(shared.perClassAccuracy).toEqual(single.perClassAccuracy);
      expect(shared.loss).toBeCloseTo(single.loss, 5);
      expect(events).toEqual(["test"]);
    } finally {
      trainer.dispose();
      model.dispose();
    }
  });

  it("shares run()'s validations among the threads, and the threads evaluate the weights restoreBest() puts back", async () => {
    const model = SequenceClassifier.create({ hiddenSize: 8, seed: 9 });
    const seen: string[] = [];
    const hooks = { onEvaluate: (e: { split: string; step: number; epoch: number }) => void seen.push(`${e.split} ${e.step} ${e.epoch}`) };
    const trainer = new Trainer(model, firstImages(mnist.train, 128), { ...config, trainingIters: 8 * 32 + 1, clipNorm: 0.3, decay: "cosine" }, { hooks, gradients: twoThreads() });
    try {
      const validation = imagesFrom(mnist.train, 50_000, 301);
      const result = await trainer.run({ validation, keepBest: true });
      expect(seen).toEqual(["validation 4 1", "validation 8 2"]); // once per epoch of 128 images
      for (const v of result.validations) expect(v.accuracy * 301).toBeCloseTo(Math.round(v.accuracy * 301), 6);
      const best = result.best;
      if (best === undefined) throw new Error("no best weights kept");
      // Weights far from the best ones: only restoreBest() brings the threads back to them.
      tf.tidy(() => {
        for (const variable of Object.values(model.variables)) variable.assign(tf.zerosLike(variable));
      });
      expect(trainer.restoreBest()).toBe(true);
      const again = await trainer.evaluate(validation, "check");
      expect(again.accuracy).toBe(best.accuracy);
      expect(again.loss).toBeCloseTo(best.loss, 6);
      const single = await evaluate(model, validation);
      expect(single.accuracy).toBe(best.accuracy);
    } finally {
      trainer.dispose();
      model.dispose();
    }
  });

  it("computes a batch smaller than the thread count on the calling thread alone", async () => {
    const model = SequenceClassifier.create({ hiddenSize: 8, seed: 8 });
    const pool = workerPool(model, 3, 2);
    try {
      const batch = orderedBatches(firstImages(mnist.train, 2), 2)[Symbol.iterator]().next().value;
      if (batch === undefined) throw new Error("no batch");
      const single = await minibatchGradients(model, batch);
      const shared = await pool.minibatch(batch);
      expect(shared.loss).toBe(single.loss);
      for (const [name, gradient] of Object.entries(single.gradients)) {
        expect(await shared.gradients[name]?.data(), name).toEqual(await gradient.data());
      }
      tf.dispose([single.gradients, shared.gradients]);
    } finally {
      await pool.dispose();
      model.dispose();
    }
  });

  it("rejects a bad worker count and reports a worker that cannot start", async () => {
    const model = SequenceClassifier.create({ hiddenSize: 8, seed: 7 });
    try {
      expect(() => new Trainer(model, train(), config, { gradients: workerThreads({ threads: 0 }) })).toThrow(ConfigError);
      const broken = new Trainer(model, train(), config, { gradients: workerThreads({ threads: 2, workerScript: new URL("./no-such-worker.js", scripts.worker) }) });
      await expect(broken.step()).rejects.toThrow(WorkerThreadError);
      await expect(broken.step()).rejects.toThrow(/no-such-worker\.js/);
      broken.dispose();
    } finally {
      model.dispose();
    }
  });

  it.each([["after dispose()", "dispose"], ["even without dispose()", "keep"]])(
    "a process that trained in parallel ends on its own %s",
    async (_, mode) => {
      const { stdout } = await promisify(execFile)(process.execPath, [scripts.exitCheck, mode], { timeout: 30_000 });
      expect(stdout.trim().split("\n")).toHaveLength(2);
      expect(stdout).toMatch(/^loss \d/);
    },
  );
});
