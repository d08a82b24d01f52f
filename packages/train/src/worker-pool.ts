import * as tf from "@tensorflow/tfjs-core";
import type { MnistSplit } from "@mnist/data";
import type { SequenceClassifier } from "@mnist/rnn";
import type { DropoutSpec } from "./dropout.js";
import { RequestChannel, type ChannelEndpoint } from "./channel.js";
import { ConfigError, WorkerThreadError } from "./errors.js";
import { evaluate, mergeEvaluations, type EvaluateOptions, type EvaluationResult } from "./evaluate.js";
import { onThisThread, type GradientSource, type GradientSourceFactory } from "./gradient-source.js";
import { minibatchGradients, type MinibatchGradients, type MinibatchInput } from "./minibatch.js";
import { carryBuffers } from "./carried-buffers.js";
import { shareSizes, sharedMemoryAvailable, WORKER_BACKENDS, type VariableSlot, type WorkerReply, type WorkerRequest, type WorkerSetup } from "./parallel-protocol.js";

/** Starts one worker thread with its setup; the pool talks to it through the endpoint (a Node worker thread, a Web Worker). */
export type StartThread = (setup: WorkerSetup) => ChannelEndpoint<WorkerRequest, WorkerReply>;

interface Thread {
  channel: RequestChannel<WorkerRequest, WorkerReply>;
  /** 1-based: thread 0 is the calling thread. */
  index: number;
  gradients: Float32Array;
  images: Float32Array;
  labels: Int32Array;
}

/** The minibatch's dropout for the share from image `start` on: the same mask's rows from there. */
function shareDropout(batch: MinibatchInput, start: number): DropoutSpec | undefined {
  return batch.dropout === undefined ? undefined : { ...batch.dropout, firstExample: batch.dropout.firstExample + start };
}

/**
 * The calling thread plus `size - 1` worker threads that share out each
 * minibatch (and evaluations) of one model. With shared memory, weights go
 * out and gradients come back through SharedArrayBuffers and messages only
 * say "go" and "done"; without it (a page that is not cross-origin isolated)
 * the same buffers' contents travel with the messages (carryBuffers).
 * How a thread starts is passed in (startThread), so the same pool runs on
 * any kind of thread. Threads may hold the process open only while a request
 * is in flight, so a forgotten dispose() cannot hang it.
 */
export class WorkerPool implements GradientSource {
  private readonly slots: VariableSlot[] = [];
  private readonly weights: Float32Array;
  private readonly threads: Thread[] = [];

  constructor(
    private readonly model: SequenceClassifier,
    readonly size: number,
    maxBatch: number,
    startThread: StartThread,
    /** SharedArrayBuffers (default where available) or buffers carried by the messages. */
    readonly shared = sharedMemoryAvailable(),
  ) {
    const buffer = (bytes: number): ArrayBufferLike => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
    let offset = 0;
    for (const [name, variable] of Object.entries(model.variables)) {
      this.slots.push({ name, shape: [...variable.shape], offset, length: variable.size });
      offset += variable.size;
    }
    const weights = buffer(offset * 4);
    this.weights = new Float32Array(weights);
    const maxShare = Math.max(...shareSizes(maxBatch, size));
    const { steps, inputSize } = model.config;
    for (let index = 1; index < size; index++) {
      const setup: WorkerSetup = {
        backend: tf.getBackend(),
        prodMode: tf.env().getBool("PROD"),
        model: model.config,
        variables: this.slots,
        shared,
        weights,
        gradients: buffer(offset * 4),
        images: buffer(maxShare * steps * inputSize * 4),
        labels: buffer(maxShare * 4),
      };
      const endpoint = startThread(setup);
      this.threads.push({
        channel: new RequestChannel(shared ? endpoint : carryBuffers(endpoint, setup), (operation, reason) => new WorkerThreadError(index, operation, reason)),
        index,
        gradients: new Float32Array(setup.gradients),
        images: new Float32Array(setup.images),
        labels: new Int32Array(setup.labels),
      });
    }
  }

  /** Waits until every thread is up. */
  private async started(): Promise<void> {
    await Promise.all(this.threads.map((thread) => thread.channel.started()));
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
      return thread.channel.request({ kind: "step", size, dropout: shareDropout(batch, start) });
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

  /**
   * evaluate() with the split cut into one contiguous share per thread, merged with
   * mergeEvaluations(); onProgress follows the calling thread's share, then reports the whole split.
   */
  async evaluate(split: MnistSplit, options: EvaluateOptions = {}): Promise<EvaluationResult> {
    if (split.count < this.size) return evaluate(this.model, split, options);
    const pixels = split.rows * split.cols;
    const shares = shareSizes(split.count, this.size);
    const starts = shares.map((_, k) => shares.slice(0, k).reduce((sum, n) => sum + n, 0));
    // The threads' start-up (a second or so, once per pool) is not part of the evaluation's pace.
    await this.started();
    const started = performance.now();
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
      thread.channel.request({ kind: "evaluate", split: part(thread.index, true), batchSize: options.batchSize }),
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
    // The workers report no progress of their own: the last call covers their shares.
    await options.onProgress?.(split.count);
    return mergeEvaluations(results, (performance.now() - started) / 1000);
  }

  /** Stops every worker thread; the pool cannot be used afterwards. */
  async dispose(): Promise<void> {
    await Promise.all(this.threads.map((thread) => thread.channel.close()));
  }
}

/**
 * The GradientSourceFactory of a pool of `threads` threads started by `startThread` (`kind` names
 * them in messages, e.g. "worker threads"); one thread computes everything on the calling thread,
 * and a pool needs a backend its threads can start.
 */
export function pooledGradients(threads: number, kind: string, startThread: StartThread, shared?: boolean): GradientSourceFactory {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new ConfigError("threads", "a positive integer (threads, the calling one included)", String(threads));
  }
  return (model, config) => {
    if (threads === 1) return onThisThread(model, config);
    const backend = tf.getBackend();
    if (WORKER_BACKENDS[backend] === undefined) {
      throw new ConfigError("threads", `1 on the ${backend} backend (${kind} run ${Object.keys(WORKER_BACKENDS).join(" or ")})`, String(threads), "train on one thread, or on the wasm backend");
    }
    return new WorkerPool(model, threads, config.batchSize, startThread, shared);
  };
}
