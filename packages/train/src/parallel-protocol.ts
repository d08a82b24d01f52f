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

/** What a worker thread is started with (worker_threads workerData); the buffers are shared, not copied. */
export interface WorkerSetup {
  /** tfjs backend name the calling thread trains on; the worker starts the same one. */
  backend: string;
  /** Whether the calling thread runs tfjs in production mode (which also silences its Node banner). */
  prodMode: boolean;
  /** Config of the model; the worker builds its own copy and takes the weights from `weights`. */
  model: ModelConfig;
  /** Layout of `weights` and `gradients`, in model.variables order. */
  variables: VariableSlot[];
  /** float32: the current weights, written by the calling thread before each request. */
  weights: SharedArrayBuffer;
  /** float32: the worker's gradients of its share of the minibatch. */
  gradients: SharedArrayBuffer;
  /** float32 [maxShare, steps, inputSize]: the worker's images of the minibatch. */
  images: SharedArrayBuffer;
  /** int32 [maxShare]: their labels. */
  labels: SharedArrayBuffer;
}

/** Requests from the calling thread; each gets exactly one reply. */
export type WorkerRequest =
  | { kind: "step"; size: number; dropout: DropoutSpec | undefined }
  | { kind: "evaluate"; split: MnistSplit; batchSize: number | undefined };

/** Replies of a worker (besides the channel's ErrorReply); "ready" comes once, unasked, when its backend and model are up. */
export type WorkerReply =
  | { kind: "ready" }
  | { kind: "step"; loss: number; accuracy: number }
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
