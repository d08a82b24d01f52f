export { ParallelTrainer, type ParallelOptions } from "./parallel-trainer.js";
export { WorkerThreadError } from "./errors.js";
export { checkpointModelFolder } from "./checkpoint.js";
