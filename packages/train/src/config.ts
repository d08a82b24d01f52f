import { ConfigError } from "./errors.js";

/** How to train; defaults are the tutorial's. */
export interface TrainConfig {
  /** Adam step size; default 0.001. */
  learningRate: number;
  /** Images per training step; default 128. */
  batchSize: number;
  /** Sample budget: steps run while batchSize * step < trainingIters (step counted from 1); default 100000, i.e. 781 steps. */
  trainingIters: number;
  /** Passes over the training split; when set it replaces trainingIters with ceil(epochs * trainCount / batchSize) steps; default unset. */
  epochs?: number;
  /** Steps between tutorial log lines (onLog); default 10. */
  displayStep: number;
  /** Steps between summary events (onSummary); default 100. */
  summaryStep: number;
  /** Seed of the training data shuffle; default 0. */
  seed: number;
}

export const DEFAULT_TRAIN_CONFIG: Readonly<TrainConfig> = Object.freeze({
  learningRate: 0.001,
  batchSize: 128,
  trainingIters: 100_000,
  displayStep: 10,
  summaryStep: 100,
  seed: 0,
});

export function resolveTrainConfig(partial: Partial<TrainConfig> = {}): TrainConfig {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, value]) => value !== undefined));
  const config: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, ...defined };
  const positive = (field: keyof TrainConfig, integer: boolean): void => {
    const value = config[field];
    if (value === undefined) return;
    if (!(value > 0) || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
      throw new ConfigError(field, integer ? "a positive integer" : "a positive finite number", String(value));
    }
  };
  positive("learningRate", false);
  positive("batchSize", true);
  positive("trainingIters", true);
  positive("epochs", false);
  positive("displayStep", true);
  positive("summaryStep", true);
  if (!Number.isInteger(config.seed)) throw new ConfigError("seed", "an integer", String(config.seed));
  return config;
}

/**
 * Number of training steps the config asks for. The tutorial loops
 * `step = 1; while step * batch_size < training_iters`, so the sample budget
 * gives the largest step with step * batchSize < trainingIters.
 */
export function totalSteps(config: TrainConfig, trainCount: number): number {
  if (config.epochs !== undefined) return Math.ceil((config.epochs * trainCount) / config.batchSize);
  return Math.floor((config.trainingIters - 1) / config.batchSize);
}
