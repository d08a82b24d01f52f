import { errorReply, type ChannelEndpoint, type ErrorReply } from "./channel.js";
import type { GradientSourceFactory } from "./gradient-source.js";
import { serveGradients, type LoadBackend } from "./gradient-worker.js";
import type { WorkerReply, WorkerRequest, WorkerSetup } from "./parallel-protocol.js";
import { pooledGradients } from "./worker-pool.js";

/** The part of a Web Worker (the DOM's Worker) the pool uses. */
export interface WebWorkerLike {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
  addEventListener(type: "error", listener: (event: ErrorEvent) => void): void;
  addEventListener(type: "messageerror", listener: (event: MessageEvent) => void): void;
  terminate(): void;
}

/** The part of a worker's global scope (`self` in a DedicatedWorker) serveWebWorker() uses. */
export interface WorkerScopeLike {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
}

/** How webWorkers() spreads the work. */
export interface WebWorkersOptions {
  /** Threads that share each minibatch and evaluation, the calling one included; 1 computes everything on the calling thread. */
  threads: number;
  /**
   * Starts one worker running serveWebWorker(), e.g.
   * `() => new Worker(new URL("./gradient-worker.ts", import.meta.url), { type: "module" })`:
   * the app's script, since only the app knows its bundler and where the backends' files are.
   */
  start: () => WebWorkerLike;
  /** SharedArrayBuffers (true) or buffers carried by the messages (false); default shared where the page is cross-origin isolated. */
  sharedMemory?: boolean;
}

/**
 * The browser's counterpart of workerThreads(): a Trainer's GradientSource (TrainerOptions.gradients)
 * that shares each minibatch and evaluation out among Web Workers, with the same WorkerPool, so
 * the split, the gradient combine and the results are those of the Node threads.
 */
export function webWorkers(options: WebWorkersOptions): GradientSourceFactory {
  return pooledGradients(options.threads, "Web Workers", (setup) => startWebWorker(options.start(), setup), options.sharedMemory);
}

/** A started Web Worker as a channel endpoint: its first message is the setup (a Web Worker has no workerData). */
function startWebWorker(worker: WebWorkerLike, setup: WorkerSetup): ChannelEndpoint<WorkerRequest, WorkerReply> {
  worker.postMessage(setup, []);
  return {
    post: (request, transfer = []) => worker.postMessage(request, transfer),
    listen(message, failure) {
      worker.addEventListener("message", (event) => message(event.data as WorkerReply | ErrorReply));
      worker.addEventListener("error", (event) => {
        event.preventDefault();
        failure(`the uncaught error "${event.message}"`);
      });
      worker.addEventListener("messageerror", () => failure("a message that could not be deserialized"));
    },
    close: async () => worker.terminate(),
  };
}

/**
 * The body of a Web Worker started by webWorkers(): takes the setup from the first message,
 * then serves the pool's requests (serveGradients). `loadBackend` registers the backend named
 * in the setup.
 */
export function serveWebWorker(scope: WorkerScopeLike, loadBackend: LoadBackend): void {
  // The pool sends no request before the worker's "ready", which comes after onRequest() is called.
  let handler: ((request: WorkerRequest) => void) | undefined;
  let setupSeen = false;
  scope.addEventListener("message", (event) => {
    if (!setupSeen) {
      setupSeen = true;
      const port = {
        post: (message: WorkerReply | ErrorReply, transfer: ArrayBuffer[]) => scope.postMessage(message, transfer),
        onRequest(serve: (request: WorkerRequest) => void) {
          handler = serve;
        },
      };
      serveGradients(port, event.data as WorkerSetup, loadBackend).catch((error: unknown) => scope.postMessage(errorReply(error), []));
      return;
    }
    handler?.(event.data as WorkerRequest);
  });
}
