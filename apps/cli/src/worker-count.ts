import { availableParallelism } from "node:os";
import { UsageError } from "./errors.js";

/** Refuses --workers above the core count; called before anything is loaded. */
export function checkWorkerFlag(workers: number | undefined): void {
  const cores = availableParallelism();
  if (workers !== undefined && workers > cores) {
    // More threads than cores only take turns on them, and each holds a whole engine (wasm: up to 4 GB).
    throw new UsageError("--workers", `expected at most ${cores} (the cores this machine has), found ${workers}; more threads than cores add memory, not speed`);
  }
}

/** The threads to compute on: --workers, or 2 on wasm with 2+ cores (tfjs runs wasm on one thread under Node), else 1. */
export function workerCount(workers: number | undefined, backendName: string): number {
  const count = workers ?? (backendName === "wasm" && availableParallelism() >= 2 ? 2 : 1);
  if (count > 1 && backendName !== "cpu" && backendName !== "wasm") {
    throw new UsageError("--workers", `expected 1 on the ${backendName} backend (worker threads run cpu or wasm), found ${count}`);
  }
  return count;
}
