import { ConfigError } from "./errors.js";

/** How the learning rate changes after the warm-up. */
export type LearningRateDecay = "none" | "cosine" | "step";

const DECAYS: readonly LearningRateDecay[] = ["none", "cosine", "step"];

/** How to train; defaults are the tutorial's. */
export interface TrainConfig {
  /** Adam step size at the schedule's peak; default 0.001. */
  learningRate: number;
  /** Steps of linear warm-up from learningRate / warmupSteps (step 1) to learningRate (step warmupSteps); default 0 (none). */
  warmupSteps: number;
  /** Rate after the warm-up: "none" keeps learningRate, "cosine" falls to minLearningRate at the last step, "step" multiplies by 0.1 after 50% and again after 75% of the steps; default "none". */
  decay: LearningRateDecay;
  /** Where the cosine decay ends (the last step's rate); default 0. */
  minLearningRate: number;
  /** Largest global L2 norm of the gradients: above it every gradient is scaled by clipNorm / norm before Adam; default unset (no clipping). */
  clipNorm?: number;
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
  /** Seed of the training data shuffle and of the dropout masks; default 0. */
  seed: number;
  /** Fraction of the top layer's last hidden units dropped before the output layer in each training example, in [0, 1); default 0 (no dropout). */
  dropout: number;
  /** Largest random translation (pixels, each axis) of each training image, for images read a row per step; default 0 (none). */
  maxShift: number;
}

export const DEFAULT_TRAIN_CONFIG: Readonly<TrainConfig> = Object.freeze({
  learningRate: 0.001,
  warmupSteps: 0,
  decay: "none",
  minLearningRate: 0,
  batchSize: 128,
  trainingIters: 100_000,
  displayStep: 10,
  summaryStep: 100,
  seed: 0,
  dropout: 0,
  maxShift: 0,
});

/** A new sample or epoch budget for a resumed run; unset fields keep the saved ones. */
export type ResumeBudget = Partial<Pick<TrainConfig, "trainingIters" | "epochs">>;

/**
 * A saved run's config with a new budget, to resume it further (or shorter): a new
 * trainingIters replaces the saved budget, epochs included, so that `--iters N` then
 * `--resume --iters 2N` ends where a straight 2N run ends.
 */
export function withBudget(config: Partial<TrainConfig>, budget: ResumeBudget): Partial<TrainConfig> {
  const out: Partial<TrainConfig> = { ...config };
  if (budget.trainingIters !== undefined) {
    out.trainingIters = budget.trainingIters;
    delete out.epochs;
  }
  if (budget.epochs !== undefined) out.epochs = budget.epochs;
  return out;
}

export function resolveTrainConfig(partial: Partial<TrainConfig> = {}): TrainConfig {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, value]) => value !== undefined));
  const config: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, ...defined };
  const positive = (field: "learningRate" | "batchSize" | "trainingIters" | "epochs" | "displayStep" | "summaryStep" | "clipNorm", integer: boolean): void => {
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
  positive("clipNorm", false);
  if (!Number.isInteger(config.warmupSteps) || config.warmupSteps < 0) {
    throw new ConfigError("warmupSteps", "a non-negative integer", String(config.warmupSteps));
  }
  if (!DECAYS.includes(config.decay)) throw new ConfigError("decay", DECAYS.map((d) => `"${d}"`).join(", "), JSON.stringify(config.decay));
  if (!(config.minLearningRate >= 0 && config.minLearningRate <= config.learningRate)) {
    throw new ConfigError("minLearningRate", `a number from 0 to the learning rate (${config.learningRate})`, String(config.minLearningRate));
  }
  if (!Number.isInteger(config.seed)) throw new ConfigError("seed", "an integer", String(config.seed));
  if (typeof config.dropout !== "number" || !(config.dropout >= 0 && config.dropout < 1)) {
    throw new ConfigError("dropout", "a rate from 0 (none) up to but not including 1", String(config.dropout), "use e.g. 0.2; 0 turns dropout off");
  }
  if (!Number.isInteger(config.maxShift) || config.maxShift < 0) {
    throw new ConfigError("maxShift", "a non-negative integer (pixels)", String(config.maxShift), "0 turns the random translation off");
  }
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

/**
 * The learning rate of step `step` (counted from 1 like StepEvent.step) in a
 * run of `totalSteps` steps: the warm-up ramp, then the decay. Cosine decay
 * gives the first step after the warm-up learningRate and the last step
 * minLearningRate (a run with a single step after the warm-up gets
 * minLearningRate); step decay depends on the whole run's length, so that the
 * drops fall at the same steps whatever the warm-up.
 */
export function learningRateAt(config: TrainConfig, step: number, totalSteps: number): number {
  const { learningRate, warmupSteps, decay, minLearningRate } = config;
  if (step <= warmupSteps) return (learningRate * step) / warmupSteps;
  if (decay === "cosine") {
    const decaySteps = totalSteps - warmupSteps;
    const progress = decaySteps <= 1 ? 1 : Math.min(1, (step - warmupSteps - 1) / (decaySteps - 1));
    // As weights, so that the ends are exactly learningRate and minLearningRate.
    const weight = (1 + Math.cos(Math.PI * progress)) / 2;
    return learningRate * weight + minLearningRate * (1 - weight);
  }
  if (decay === "step") {
    const drops = (step > totalSteps / 2 ? 1 : 0) + (step > (3 * totalSteps) / 4 ? 1 : 0);
    return learningRate * 0.1 ** drops;
  }
  return learningRate;
}
