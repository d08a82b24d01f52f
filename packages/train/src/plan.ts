import type { MnistSplit } from "@mnist/data";
import type { ModelConfig } from "@mnist/rnn";
import { resolveTrainConfig, totalSteps, type TrainConfig } from "./config.js";
import { ConfigError } from "./errors.js";
import type { TrainerState } from "./trainer.js";

/** Everything a training run is about to use, checked together by checkTrainingPlan before anything is built. */
export interface TrainingPlan {
  /** The config of the model to train (a new one, or a checkpoint's). */
  model: ModelConfig;
  /** The training config as given; unset fields take their defaults. */
  config: Partial<TrainConfig>;
  /** The images trained on, as the model reads them (rows = steps, cols = inputs per step). */
  train: MnistSplit;
  /** Other splits the run evaluates, by name ("validation", "test"), read the same way. */
  evaluated?: Readonly<Record<string, MnistSplit>>;
  /** For a resumed run, its checkpoint's state: the steps done and the training split's size; default a new run. */
  resumed?: Pick<TrainerState, "step" | "trainCount">;
}

/** A split's images must be what the model reads: rows = steps, cols = inputs per step. */
export function checkSplitImages(name: string, split: MnistSplit, model: Pick<ModelConfig, "steps" | "inputSize">): void {
  const { steps, inputSize } = model;
  if (split.rows !== steps || split.cols !== inputSize) {
    throw new ConfigError(
      name,
      `images read as ${steps} steps of ${inputSize} values (the model's steps x inputSize)`,
      `${split.rows} x ${split.cols}`,
      "train and evaluate on images of the size the model reads",
    );
  }
}

/** A resumed run trains on a split of the size it was saved with; another would not be the same run. */
export function checkResumedSplit(resumed: Pick<TrainerState, "trainCount">, train: MnistSplit): void {
  if (resumed.trainCount !== train.count) {
    throw new ConfigError(
      "training split",
      `${resumed.trainCount} images, as in the run being resumed`,
      `${train.count} images`,
      "resume with the same training data (and validation size)",
    );
  }
}

/**
 * Checks a training run as a whole before any model, trainer or file is made: the config on its
 * own (resolveTrainConfig), every split's images against the model's steps x inputSize, the
 * batch against the training split, the budget (at least one step still to run) and the shift
 * against the image size. The checks a Trainer makes on its way (which fail after data and model
 * exist) all come earlier here, so a run that starts can finish. Throws ConfigError naming the
 * config field or split; returns the resolved config and its step budget.
 */
export function checkTrainingPlan(plan: TrainingPlan): { config: TrainConfig; totalSteps: number } {
  const config = resolveTrainConfig(plan.config);
  const splits: [string, MnistSplit][] = [["training split", plan.train], ...Object.entries(plan.evaluated ?? {}).map(([name, split]): [string, MnistSplit] => [`${name} split`, split])];
  for (const [name, split] of splits) {
    checkSplitImages(name, split, plan.model);
    if (split.count === 0) throw new ConfigError(name, "at least one image", "0 images");
  }
  const { train, resumed } = plan;
  if (resumed !== undefined) checkResumedSplit(resumed, train);
  if (config.batchSize > train.count) {
    throw new ConfigError("batchSize", `at most the ${train.count} images of the training split`, String(config.batchSize), "use a smaller batch");
  }
  if (config.maxShift > 0 && config.maxShift >= Math.min(train.rows, train.cols)) {
    throw new ConfigError(
      "maxShift",
      `fewer pixels than the ${train.rows}x${train.cols} images are wide and tall (0 to ${Math.min(train.rows, train.cols) - 1})`,
      String(config.maxShift),
      "a shift of 2 or 3 pixels suits 28x28 digits",
    );
  }
  const budget = totalSteps(config, train.count);
  const done = resumed?.step ?? 0;
  if (budget <= done) {
    const field = config.epochs === undefined ? "trainingIters" : "epochs";
    const given = config.epochs === undefined ? `${config.trainingIters} samples` : `${config.epochs} epochs`;
    const needed =
      config.epochs === undefined
        ? `more than ${(done + 1) * config.batchSize} samples, so that step ${done + 1} runs (a step of ${config.batchSize} images runs while steps x batch < samples)`
        : `enough passes over the ${train.count} training images for step ${done + 1} to run`;
    throw new ConfigError(field, needed, `${given}, ${budget} step${budget === 1 ? "" : "s"}${done > 0 ? ` (${done} already done)` : ""}`, "raise the budget or lower the batch size");
  }
  return { config, totalSteps: budget };
}
