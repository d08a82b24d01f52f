import { Worker } from "node:worker_threads";
import * as tf from "@tensorflow/tfjs-core";
import type { ChannelEndpoint } from "./channel.js";
import { ConfigError } from "./errors.js";
import { onThisThread, type GradientSourceFactory } from "./gradient-source.js";
import { WORKER_BACKENDS, type WorkerReply, type WorkerRequest, type WorkerSetup } from "./parallel-protocol.js";
import { WorkerPool } from "./worker-pool.js";

/** How workerThreads() spreads the work. */
export interface WorkerThreadsOptions {
  /** Threads that share each minibatch and evaluation, the calling thread included; 1 computes everything on the calling thread; default 2. */
  threads?: number;
  /** The worker script; default the built parallel-worker.js beside this module (override when bundling). */
  workerScript?: URL;
}

/**
 * A Trainer's GradientSource (TrainerOptions.gradients) that shares each minibatch and
 * evaluation out among Node worker threads, because TensorFlow.js runs its cpu and wasm
 * backends on one core under Node. Each step the calling thread and the workers compute
 * gradients of contiguous shares of the same minibatch, combined into the gradient of the
 * whole minibatch's mean loss; the threads take the model's weights at every request.
 * trainer.dispose() stops the threads.
 */
export function workerThreads(options: WorkerThreadsOptions = {}): GradientSourceFactory {
  const threads = options.threads ?? 2;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new ConfigError("threads", "a positive integer (threads, the calling one included)", String(options.threads));
  }
  const script = options.workerScript ?? new URL("./parallel-worker.js", import.meta.url);
  return (model, config) => {
    if (threads === 1) return onThisThread(model, config);
    const backend = tf.getBackend();
    if (WORKER_BACKENDS[backend] === undefined) {
      throw new ConfigError(
        "threads",
        `1 on the ${backend} backend (worker threads run ${Object.keys(WORKER_BACKENDS).join(" or ")})`,
        String(threads),
        "train on one thread, or on the wasm backend",
      );
    }
    return new WorkerPool(model, threads, config.batchSize, (setup) => startWorkerThread(script, setup));
  };
}

/** Lines of a worker's own stderr kept to explain its failure; an engine running out of memory writes dozens. */
const KEPT_STDERR_LINES = 20;

/**
 * A Node worker thread running `script`, which holds the process open only while the pool awaits it.
 * What its engine writes to stderr (the wasm engine reports failed allocations there, line by line,
 * before aborting) is held back: the first line goes into the thread's failure, so the error is one
 * line; without a failure it is passed on when the thread closes.
 */
function startWorkerThread(script: URL, setup: WorkerSetup): ChannelEndpoint<WorkerRequest, WorkerReply> {
  const worker = new Worker(script, { workerData: setup, stderr: true });
  worker.unref();
  const stderr: string[] = [];
  let stderrLines = 0;
  let failed = false;
  worker.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = chunk.split("\n").filter((line) => line.trim() !== "");
    stderrLines += lines.length;
    stderr.push(...lines.slice(0, KEPT_STDERR_LINES - stderr.length));
  });
  const said = (): string => (stderrLines === 0 ? "" : `; its engine said "${stderr[0]}"${stderrLines > 1 ? ` and ${stderrLines - 1} more lines` : ""}`);
  return {
    post: (request) => worker.postMessage(request),
    listen(message, failure) {
      const fail = (reason: string): void => {
        failed = true;
        failure(`${reason}${said()}`);
      };
      worker.on("message", message);
      worker.on("error", (error) => fail(`the uncaught error "${error.message}" (worker script ${script.href})`));
      worker.on("exit", (code) => fail(`the thread exiting with code ${code}`));
    },
    hold: (held) => (held ? worker.ref() : worker.unref()),
    close: async () => {
      await worker.terminate();
      if (!failed && stderr.length > 0) process.stderr.write(`${stderr.join("\n")}\n`);
    },
  };
}
