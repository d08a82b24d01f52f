import { Worker } from "node:worker_threads";
import type { ChannelEndpoint } from "./channel.js";
import type { GradientSourceFactory } from "./gradient-source.js";
import type { WorkerReply, WorkerRequest, WorkerSetup } from "./parallel-protocol.js";
import { pooledGradients } from "./worker-pool.js";

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
  const script = options.workerScript ?? new URL("./parallel-worker.js", import.meta.url);
  return pooledGradients(options.threads ?? 2, "worker threads", (setup) => startWorkerThread(script, setup));
}

/** A Node worker thread running `script`, which holds the process open only while the pool awaits it. */
export function startWorkerThread(script: URL, setup: WorkerSetup): ChannelEndpoint<WorkerRequest, WorkerReply> {
  const worker = new Worker(script, { workerData: setup });
  worker.unref();
  return {
    post: (request, transfer) => worker.postMessage(request, transfer),
    listen(message, failure) {
      worker.on("message", message);
      worker.on("error", (error) => failure(`the uncaught error "${error.message}" (worker script ${script.href})`));
      worker.on("exit", (code) => failure(`the thread exiting with code ${code}`));
    },
    hold: (held) => (held ? worker.ref() : worker.unref()),
    close: async () => {
      await worker.terminate();
    },
  };
}
