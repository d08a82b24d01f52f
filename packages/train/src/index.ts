export { DEFAULT_TRAIN_CONFIG, totalSteps, type TrainConfig } from "./config.js";
export { CheckpointError, ConfigError, DivergenceError } from "./errors.js";
export { evaluate, type EvaluateOptions, type EvaluationResult } from "./evaluate.js";
export { formatIterationLine, formatTestLine, OPTIMIZATION_FINISHED } from "./format.js";
export { combineHooks, type TrainHooks } from "./hooks.js";
export { tensorBoardHooks, type TensorBoardOptions, type TensorBoardWriter } from "./tensorboard.js";
export type { MinibatchGradients, MinibatchInput } from "./minibatch.js";
export { Trainer, type ResumeBudget, type RunOptions, type RunResult, type StepEvent } from "./trainer.js";
