export { DEFAULT_TRAIN_CONFIG, learningRateAt, totalSteps, type LearningRateDecay, type TrainConfig } from "./config.js";
export { dropoutMask, type DropoutSpec } from "./dropout.js";
export { CheckpointError, ConfigError, DivergenceError } from "./errors.js";
export { evaluate, type EvaluateOptions, type EvaluationResult } from "./evaluate.js";
export { formatIterationLine, formatTestLine, formatValidationLine, OPTIMIZATION_FINISHED } from "./format.js";
export { combineHooks, type TrainHooks } from "./hooks.js";
export { tensorBoardHooks, type TensorBoardOptions, type TensorBoardWriter } from "./tensorboard.js";
export type { MinibatchGradients, MinibatchInput } from "./minibatch.js";
export { Trainer, type ResumeBudget, type RunOptions, type RunResult, type StepEvent, type ValidationRecord } from "./trainer.js";
