export { checkTrainingPlan, type TrainingPlan } from "./plan.js";
export { DEFAULT_TRAIN_CONFIG, learningRateAt, resolveTrainConfig, totalSteps, withBudget, type LearningRateDecay, type ResumeBudget, type TrainConfig } from "./config.js";
export { dropoutMask, type DropoutSpec } from "./dropout.js";
export { CheckpointError, ConfigError, DivergenceError, WorkerThreadError } from "./errors.js";
export { evaluate, mergeEvaluations, type EvaluateOptions, type EvaluationResult } from "./evaluate.js";
export { formatIterationLine, formatTestLine, formatValidationLine, OPTIMIZATION_FINISHED } from "./format.js";
export type { GradientSource, GradientSourceFactory } from "./gradient-source.js";
export { combineHooks, type TrainHooks } from "./hooks.js";
export { tensorBoardHooks, type TensorBoardOptions, type TensorBoardWriter } from "./tensorboard.js";
export { modelGraph } from "./model-graph.js";
export { RUN_EXPERIMENT, runHParams, type RunSettings } from "./run-hparams.js";
export { hiddenStates, type HiddenStates } from "./hidden-states.js";
export type { MinibatchGradients, MinibatchInput } from "./minibatch.js";
export {
  Trainer,
  type Checkpoint,
  type CheckpointWriter,
  type EngineRecord,
  type RunSchedule,
  type RunOptions,
  type RunResult,
  type StepEvent,
  type TrainerOptions,
  type TrainerState,
  type ValidationRecord,
} from "./trainer.js";
export { serveWebWorker, webWorkers, type WebWorkerLike, type WebWorkersOptions, type WorkerScopeLike } from "./web-workers.js";
export type { LoadBackend } from "./gradient-worker.js";
export { sharedMemoryAvailable } from "./parallel-protocol.js";
