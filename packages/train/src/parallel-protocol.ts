import type { MnistSplit } from "@mnist/data";
import type { ModelConfig } from "@mnist/rnn";
import type { DropoutSpec } from "./dropout.js";
import type { EvaluationResult } from "./evaluate.js";

/** Where one variable's values sit in the flat float32 weight and gradient buffers. */
export interface VariableSlot {
  /** Key in model.variables. */
  name: string;
  shape: number[];
  /** First float of the variable in the buffer. */
  offset: number;
  /** Floats it takes (product of shape). */
  length: number;
}

/**
 * What a worker thread is started with (worker_threads workerData, a Web Worker's first message).
 * With `shared` the four buffers are SharedArrayBuffers that both sides see; without it (a page
 * that is not cross-origin isolated) each side has its own copies, and their contents travel
 * with the requests and replies (WorkerRequest.carried, the step reply's gradients).
 */
export interface WorkerSetup {
  /** tfjs backend name the calling thread trains on; the worker starts the same one. */
  backend: string;
  /** Whether the calling thread runs tfjs in production mode (which also silences its Node banner). */
  prodMode: boolean;
  /** Config of the model; the worker builds its own copy and takes the weights from `weights`. */
  model: ModelConfig;
  /** Layout of `weights` and `gradients`, in model.variables order. */
  variables: VariableSlot[];
  /** Whether the buffers below are SharedArrayBuffers; false: their contents are carried by the messages. */
  shared: boolean;
  /** float32: the current weights, written by the calling thread before each request. */
  weights: ArrayBufferLike;
  /** float32: the worker's gradients of its share of the minibatch. */
  gradients: ArrayBufferLike;
  /** float32 [maxShare, steps, inputSize]: the worker's images of the minibatch. */
  images: ArrayBufferLike;
  /** int32 [maxShare]: their labels. */
  labels: ArrayBufferLike;
}

/** Without shared memory: the parts of the buffers a request needs, copied and transferred with it. */
export interface CarriedBuffers {
  /** All of WorkerSetup.weights. */
  weights: ArrayBuffer;
  /** The first `size` images and labels of a step's share (steps only). */
  images?: ArrayBuffer;
  labels?: ArrayBuffer;
}

/** Requests from the calling thread; each gets exactly one reply. */
export type WorkerRequest =
  | { kind: "step"; size: number; dropout: DropoutSpec | undefined; carried?: CarriedBuffers }
  | { kind: "evaluate"; split: MnistSplit; batchSize: number | undefined; carried?: CarriedBuffers };

/** Replies of a worker (besides the channel's ErrorReply); "ready" comes once, unasked, when its backend and model are up. */
export type WorkerReply =
  | { kind: "ready" }
  | { kind: "step"; loss: number; accuracy: number; gradients?: ArrayBuffer }
  | { kind: "evaluate"; result: EvaluationResult };

/** The packages that register each backend the worker can start. */
export const WORKER_BACKENDS: Readonly<Record<string, string>> = Object.freeze({
  cpu: "@tensorflow/tfjs-backend-cpu",
  wasm: "@tensorflow/tfjs-backend-wasm",
});

/** Sizes of the contiguous shares of `total` items among `parts` threads, in thread order. */
export function shareSizes(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, k) => Math.floor((total * (k + 1)) / parts) - Math.floor((total * k) / parts));
}

/**
 * Whether this thread can share memory with its workers: SharedArrayBuffer exists and, in a
 * browser, the page is cross-origin isolated (COOP/COEP headers); in Node it always can.
 */
export function sharedMemoryAvailable(): boolean {
  return typeof SharedArrayBuffer === "function" && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== false;
}
