import { Worker } from "node:worker_threads";
import * as tf from "@tensorflow/tfjs-core";
import type { MnistSplit } from "@mnist/data";
import type { SequenceClassifier } from "@mnist/rnn";
import type { DropoutSpec } from "./dropout.js";
import { WorkerThreadError } from "./errors.js";
import { evaluate, summarizeEvaluation, type EvaluateOptions, type EvaluationResult } from "./evaluate.js";
import { minibatchGradients, type MinibatchGradients, type MinibatchInput } from "./minibatch.js";
import { shareSizes, type VariableSlot, type WorkerReply, type WorkerRequest, type WorkerSetup } from "./parallel-protocol.js";

interface Thread {
  worker: Worker;
  /** 1-based: thread 0 is the calling thread. */
  index: number;
  gradients: Float32Array;
  images: Float32Array;
  labels: Int32Array;
  /** Settles with the "ready" message. */
  ready: Promise<void>;
  pending: { resolve(reply: WorkerReply): void; reject(error: Error): void; operation: string } | undefined;
  failure: WorkerThreadError | undefined;
}

/** The minibatch's dropout for the share from image `start` on: the same mask's rows from there. */
function shareDropout(batch: MinibatchInput, start: number): DropoutSpec | undefined {
  return batch.dropout === undefined ? undefined : { ...batch.dropout, firstExample: batch.dropout.firstExample + start };
}

/**
 * The calling thread plus `threads - 1` worker threads that share out each
 * minibatch (and evaluations) of one model. Weights go out and gradients come
 * back through SharedArrayBuffers; messages only say "go" and "done".
 * Workers hold the process open only while a request is in flight, so a
 * forgotten terminate() cannot hang it.
 */
export class WorkerPool {
  private readonly slots: VariableSlot[] = [];
  private readonly weights: Float32Array;
  private readonly threads: Thread[] = [];

  constructor(
    private readonly model: SequenceClassifier,
    readonly size: number,
    maxBatch: number,
    script: URL,
  ) {
    let offset = 0;
    for (const [name, variable] of Object.entries(model.variables)) {
      this.slots.push({ name, shape: [...variable.shape], offset, length: variable.size });
      offset += variable.size;
    }
    const weights = new SharedArrayBuffer(offset * 4);
    this.weights = new Float32Array(weights);
    const maxShare = Math.max(...shareSizes(maxBatch, size));
    const { steps, inputSize } = model.config;
    for (let index = 1; index < size; index++) {
      const setup: WorkerSetup = {
        backend: tf.getBackend(),
        prodMode: tf.env().getBool("PROD"),
        model: model.config,
        variables: this.slots,
        weights,
        gradients: new SharedArrayBuffer(offset * 4),
        images: new SharedArrayBuffer(maxShare * steps * inputSize * 4),
        labels: new SharedArrayBuffer(maxShare * 4),
      };
      this.threads.push(this.spawn(index, script, setup));
    }
  }

  private spawn(index: number, script: URL, setup: WorkerSetup): Thread {
    const worker = new Worker(script, { workerData: setup });
    worker.unref();
    let readyResolve = (): void => {};
    let readyReject = (_error: Error): void => {};
    const thread: Thread = {
      worker,
      index,
      gradients: new Float32Array(setup.gradients),
      images: new Float32Array(setup.images),
      labels: new Int32Array(setup.labels),
      ready: new Promise<void>((resolve, reject) => {
        readyResolve = resolve;
        readyReject = reject;
      }),
      pending: undefined,
      failure: undefined,
    };
    thread.pending = { resolve: () => readyResolve(), reject: readyReject, operation: "start-up" };
    // Nobody may await `ready` (a pool disposed unused): keep its rejection from going unhandled.
    thread.ready.catch(() => {});
    const fail = (reason: string): void => {
      const pending = thread.pending;
      thread.failure ??= new WorkerThreadError(index, pending?.operation ?? "idle", reason);
      thread.pending = undefined;
      pending?.reject(thread.failure);
    };
    worker.on("message", (reply: WorkerReply) => {
      const pending = thread.pending;
      thread.pending = undefined;
      if (reply.kind === "error") {
        thread.failure = new WorkerThreadError(index, pending?.operation ?? "idle", `the error "${reply.message}"`);
        pending?.reject(thread.failure);
      } else {
        pending?.resolve(reply);
      }
    });
    worker.on("error", (error) => fail(`the uncaught error "${error.message}" (worker script ${script.href})`));
    worker.on("exit", (code) => fail(`the thread exiting with code ${code}`));
    return thread;
  }

  /** Waits until every worker is up (holding the process open meanwhile). */
  private async started(): Promise<void> {
    for (const thread of this.threads) thread.worker.ref();
    try {
      await Promise.all(this.threads.map((thread) => thread.ready));
    } finally {
      for (const thread of this.threads) thread.worker.unref();
    }
  }

  /** Posts at once (not after an await), so the worker starts while this thread computes its share. */
  private request(thread: Thread, request: WorkerRequest): Promise<WorkerReply> {
    if (thread.failure !== undefined) return Promise.reject(thread.failure);
    thread.worker.ref();
    const reply = new Promise<WorkerReply>((resolve, reject) => {
      thread.pending = { resolve, reject, operation: request.kind };
    });
    thread.worker.postMessage(request);
    return reply.finally(() => thread.worker.unref());
  }

  private publishWeights(): void {
    for (const slot of this.slots) this.weights.set(this.model.variables[slot.name]?.dataSync() ?? [], slot.offset);
  }

  /**
   * Loss, accuracy and gradients of the mean loss over the whole minibatch:
   * each thread's mean gradient weighted by its share, summed in thread
   * order, over the minibatch size, so the result depends only on the data.
   */
  async minibatch(batch: MinibatchInput): Promise<MinibatchGradients> {
    // Fewer images than threads: not worth a round trip, and no thread should get an empty share.
    if (batch.size < this.size) return minibatchGradients(this.model, batch);
    const { steps, inputSize } = this.model.config;
    const pixels = steps * inputSize;
    const shares = shareSizes(batch.size, this.size);
    const starts = shares.map((_, k) => shares.slice(0, k).reduce((sum, n) => sum + n, 0));
    await this.started();
    this.publishWeights();
    const replies = this.threads.map((thread) => {
      const size = shares[thread.index] ?? 0;
      const start = starts[thread.index] ?? 0;
      thread.images.set(batch.images.subarray(start * pixels, (start + size) * pixels));
      thread.labels.set(batch.labels.subarray(start, start + size));
      return this.request(thread, { kind: "step", size, dropout: shareDropout(batch, start) });
    });
    const own = shares[0] ?? 0;
    let local: MinibatchGradients;
    try {
      const share: MinibatchInput = {
        size: own,
        images: batch.images.subarray(0, own * pixels),
        labels: batch.labels.subarray(0, own),
        dropout: shareDropout(batch, 0),
      };
      local = await minibatchGradients(this.model, share);
    } catch (error) {
      await Promise.allSettled(replies);
      throw error;
    }
    let settled: WorkerReply[];
    try {
      settled = await Promise.all(replies);
    } catch (error) {
      tf.dispose(local.gradients);
      await Promise.allSettled(replies);
      throw error;
    }
    let loss = local.loss * own;
    let accuracy = local.accuracy * own;
    const gradients = tf.tidy(() => {
      const sums: Record<string, tf.Tensor> = {};
      for (const slot of this.slots) {
        const ownGradient = local.gradients[slot.name];
        if (ownGradient === undefined) continue;
        let sum = tf.mul(ownGradient, own);
        for (const thread of this.threads) {
          const size = shares[thread.index] ?? 0;
          const values = thread.gradients.slice(slot.offset, slot.offset + slot.length);
          sum = tf.add(sum, tf.mul(tf.tensor(values, slot.shape), size));
        }
        sums[slot.name] = tf.div(sum, batch.size);
      }
      return sums;
    });
    tf.dispose(local.gradients);
    for (const thread of this.threads) {
      const reply = settled[thread.index - 1];
      if (reply?.kind !== "step") continue;
      const size = shares[thread.index] ?? 0;
      loss += reply.loss * size;
      accuracy += reply.accuracy * size;
    }
    return { loss: loss / batch.size, accuracy: accuracy / batch.size, gradients };
  }

  /** evaluate() with the split cut into one contiguous share per thread; counts add up exactly. */
  async evaluate(split: MnistSplit, options: EvaluateOptions = {}): Promise<EvaluationResult> {
    if (split.count < this.size) return evaluate(this.model, split, options);
    const started = performance.now();
    const pixels = split.rows * split.cols;
    const shares = shareSizes(split.count, this.size);
    const starts = shares.map((_, k) => shares.slice(0, k).reduce((sum, n) => sum + n, 0));
    await this.started();
    const part = (k: number, copy: boolean): MnistSplit => {
      const start = starts[k] ?? 0;
      const count = shares[k] ?? 0;
      // A view would be cloned with its whole underlying buffer; a copy sends just this share.
      const images = split.images.subarray(start * pixels, (start + count) * pixels);
      const labels = split.labels.subarray(start, start + count);
      return { images: copy ? images.slice() : images, labels: copy ? labels.slice() : labels, count, rows: split.rows, cols: split.cols };
    };
    this.publishWeights();
    const replies = this.threads.map((thread) =>
      this.request(thread, { kind: "evaluate", split: part(thread.index, true), batchSize: options.batchSize }),
    );
    let results: EvaluationResult[];
    try {
      const local = await evaluate(this.model, part(0, false), options);
      results = [local];
    } catch (error) {
      await Promise.allSettled(replies);
      throw error;
    }
    for (const reply of await Promise.all(replies)) {
      if (reply.kind === "evaluate") results.push(reply.result);
    }
    const classes = this.model.config.classes;
    const confusion = Array.from({ length: classes }, (_, label) =>
      Array.from({ length: classes }, (_, predicted) => results.reduce((sum, r) => sum + (r.confusion[label]?.[predicted] ?? 0), 0)),
    );
    const lossSum = results.reduce((sum, r) => sum + (r.count === 0 ? 0 : r.loss * r.count), 0);
    return summarizeEvaluation(confusion, lossSum, (performance.now() - started) / 1000);
  }

  /** Stops every worker thread; the pool cannot be used afterwards. */
  async terminate(): Promise<void> {
    await Promise.all(this.threads.map((thread) => thread.worker.terminate()));
  }
}
