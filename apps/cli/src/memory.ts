import { freemem } from "node:os";
import { trainingBytes, type ModelConfig } from "@mnist/rnn";
import { UsageError } from "./errors.js";

/** The most a wasm32 memory can grow to (65535 pages of 64 KiB); the wasm engine aborts beyond it. */
export const WASM_HEAP_BYTES = 4_294_901_760;

/** What one training run asks of memory, and where it runs. */
export interface MemoryPlan {
  model: ModelConfig;
  batchSize: number;
  /** Threads sharing each minibatch, each with an engine of its own. */
  threads: number;
  /** The backend's name: "wasm" engines hold at most WASM_HEAP_BYTES each; the others share the machine's memory. */
  backend: string;
  /** Memory the machine has free; default os.freemem(). */
  freeBytes?: number;
  /** True when the model comes from a checkpoint, so that its size flags cannot change it. */
  resumed?: boolean;
}

const gb = (bytes: number): string => `${(bytes / 1e9).toFixed(1)} GB`;

/**
 * Refuses a run whose engines cannot hold it, before the model is built: trainingBytes for each
 * thread's share of the minibatch, against the wasm heap's limit per engine and the machine's free
 * memory for all of them. The flag named is the one to lower: the width when the model alone is
 * too large, else the batch.
 */
export function checkTrainingMemory(plan: MemoryPlan): void {
  const { model, batchSize, threads, backend } = plan;
  const free = plan.freeBytes ?? freemem();
  const heapBound = backend === "wasm" && WASM_HEAP_BYTES < free / threads;
  const perEngineLimit = heapBound ? WASM_HEAP_BYTES : free / threads;
  const perThread = trainingBytes(model, Math.ceil(batchSize / threads));
  if (perThread <= perEngineLimit) return;
  const modelTooLarge = trainingBytes(model, 1) > perEngineLimit;
  const flag = plan.resumed ? "--resume" : modelTooLarge ? `--hidden ${model.hiddenSize}` : `--batch-size ${batchSize}`;
  const what = plan.resumed ? "this checkpoint's model" : "this model";
  const fix = plan.resumed ? "Resume on a machine with more memory." : "Use a smaller --hidden, --layers or --batch-size.";
  const need = threads > 1 ? `about ${gb(perThread)} per thread (${threads} threads)` : `about ${gb(perThread)}`;
  const limit = heapBound ? `a wasm engine holds at most ${gb(WASM_HEAP_BYTES)}` : `this machine has ${gb(free)} free`;
  throw new UsageError(flag, `training ${what} needs ${need}; ${limit}. ${fix}`);
}
