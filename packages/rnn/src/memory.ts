import type { ModelConfig } from "./config.js";
import { parameterSpecs } from "./parameters.js";

/**
 * Floats a training engine holds per parameter at its peak: the variable, Adam's two moments and
 * their updates, the gradient and its clipped copy, the step weights and transposes the fast path
 * derives, and what the allocator cannot reuse. Measured on wasm (heap after three steps, one
 * fresh process per model): 17-20 per parameter for 1024-2048 hidden units.
 */
const COPIES_PER_PARAMETER = 20;
/**
 * Floats the backward pass keeps per example, step, layer and hidden unit: the input rows, c,
 * the four gate sigmoids, tanh(c), the four dL/dz columns and their stacked copy (about 16),
 * rounded up for the engine's temporaries.
 */
const ACTIVATION_FLOATS_PER_UNIT = 20;

/** The model's trainable values. */
export function parameterCount(config: ModelConfig): number {
  return parameterSpecs(config).reduce((sum, spec) => sum + spec.shape.reduce((product, size) => product * size, 1), 0);
}

/**
 * Bytes one engine needs to train `config` on minibatches of `batchSize` examples (a worker
 * thread's share, when the batch is shared out): weights, optimizer state and gradients, and the
 * activations the backward pass keeps. An estimate from the shapes (measured wasm heaps were 0.85-1.0
 * times it for 128-2048 hidden units), so that a configuration that cannot fit is refused before
 * it is built: the wasm engine's heap ends at 4 GiB, and a failed allocation there aborts it.
 */
export function trainingBytes(config: ModelConfig, batchSize: number): number {
  const weights = COPIES_PER_PARAMETER * parameterCount(config);
  const activations = batchSize * config.steps * config.layers * (ACTIVATION_FLOATS_PER_UNIT * config.hiddenSize + config.inputSize);
  return 4 * (weights + activations);
}
