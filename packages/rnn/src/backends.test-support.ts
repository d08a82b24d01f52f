/** Test-only: the backends every backend-dependent test runs under. */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";

export const BACKENDS = ["cpu", "wasm"] as const;

export async function useBackend(name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} did not initialise`);
  await tf.ready();
}

/** Uniform values in [-scale, scale), rounded to float32 so plain-JS references see the same numbers. */
export function randomValues(count: number, uniform: () => number, scale = 1): number[] {
  return Array.from({ length: count }, () => Math.fround((2 * uniform() - 1) * scale));
}
