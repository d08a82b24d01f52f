import { ModelConfigError } from "./errors.js";

export type CellType = "lstm" | "gru";

/** How the recurrent rows (the rows that multiply h) of each cell kernel start. */
export type RecurrentInit = "glorot" | "orthogonal";

/**
 * How the input and output layers start: Glorot-uniform kernels and zero biases, or N(0, 1) for
 * kernels and biases alike (the tutorial's tf.random_normal).
 */
export type DenseInit = "glorot" | "normal";

/**
 * Where the output layer's bias goes: added to the product (logits = h*W + b), or added to every
 * row of the kernel first (logits = h*(W + b) = h*W + sum(h)*b, as some copies of the tutorial wrote
 * `tf.matmul(outputs[-1], weights['out'] + biases['out'])`).
 */
export type OutputBias = "added" | "in-weights";

/** Shape and initialisation of a sequence classifier (defaults: the tutorial's model). */
export interface ModelConfig {
  /** Recurrent cell: "lstm" (BasicLSTM semantics) or "gru". Default "lstm". */
  cell: CellType;
  /** Inputs per step (pixels per image row). Default 28. */
  inputSize: number;
  /** Steps per sequence (image rows). Default 28. */
  steps: number;
  /** Width of the input projection and of the cell state. Default 128. */
  hiddenSize: number;
  /** Stacked recurrent layers; layer n >= 2 reads the hidden states of layer n - 1. Default 1. */
  layers: number;
  /** Output classes. Default 10. */
  classes: number;
  /** Added to the forget gate's pre-activation inside the LSTM cell (LSTM only). Default 1.0. */
  forgetBias: number;
  /** Recurrent rows of each cell kernel: Glorot-uniform, or an orthogonal [H, H] block per gate. Default "glorot". */
  recurrentInit: RecurrentInit;
  /** Input and output layers' initial kernels and biases: Glorot-uniform and zeros, or N(0, 1) for all four. Default "glorot". */
  denseInit: DenseInit;
  /** Output layer: logits = h*W + b ("added"), or h*(W + b) with b added to each row of W ("in-weights"). Default "added". */
  outputBias: OutputBias;
  /** Seed of the initial weights: one seed always gives the same weights. Default 0. */
  seed: number;
}

export const DEFAULT_MODEL_CONFIG: Readonly<ModelConfig> = Object.freeze({
  cell: "lstm",
  inputSize: 28,
  steps: 28,
  hiddenSize: 128,
  layers: 1,
  classes: 10,
  forgetBias: 1.0,
  recurrentInit: "glorot",
  denseInit: "glorot",
  outputBias: "added",
  seed: 0,
});

const POSITIVE_INTEGER_FIELDS = ["inputSize", "steps", "hiddenSize", "layers", "classes"] as const;

/** Fills in defaults and rejects values no model can have. */
export function resolveModelConfig(overrides: Partial<ModelConfig> = {}): ModelConfig {
  const config: ModelConfig = { ...DEFAULT_MODEL_CONFIG, ...definedFields(overrides) };
  if (config.cell !== "lstm" && config.cell !== "gru") {
    throw new ModelConfigError("cell", '"lstm" or "gru"', JSON.stringify(config.cell));
  }
  for (const field of POSITIVE_INTEGER_FIELDS) {
    const value = config[field];
    if (!Number.isInteger(value) || value < 1) {
      throw new ModelConfigError(field, "a positive integer", String(value));
    }
  }
  if (typeof config.forgetBias !== "number" || !Number.isFinite(config.forgetBias)) {
    throw new ModelConfigError("forgetBias", "a finite number", String(config.forgetBias));
  }
  if (config.recurrentInit !== "glorot" && config.recurrentInit !== "orthogonal") {
    throw new ModelConfigError("recurrentInit", '"glorot" or "orthogonal"', JSON.stringify(config.recurrentInit));
  }
  if (config.denseInit !== "glorot" && config.denseInit !== "normal") {
    throw new ModelConfigError("denseInit", '"glorot" or "normal"', JSON.stringify(config.denseInit));
  }
  if (config.outputBias !== "added" && config.outputBias !== "in-weights") {
    throw new ModelConfigError("outputBias", '"added" or "in-weights"', JSON.stringify(config.outputBias));
  }
  if (!Number.isInteger(config.seed)) {
    throw new ModelConfigError("seed", "an integer", String(config.seed));
  }
  return config;
}

function definedFields(overrides: Partial<ModelConfig>): Partial<ModelConfig> {
  return Object.fromEntries(
    Object.entries(overrides).filter(([, value]) => value !== undefined),
  ) as Partial<ModelConfig>;
}
