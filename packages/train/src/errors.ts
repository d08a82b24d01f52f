/** A configuration value, or a model/data pairing, that training cannot work with. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly field: string,
    readonly expected: string,
    readonly actual: string,
    /** What to change, in words that do not assume an app or a library call. */
    readonly hint = "check the training options",
  ) {
    super(`Invalid ${field}: expected ${expected}, found ${actual}. Hint: ${hint}.`);
  }
}

/** The loss became NaN or infinite; the weights were not updated from that step. */
export class DivergenceError extends Error {
  override readonly name = "DivergenceError";
  constructor(
    readonly step: number,
    readonly loss: number,
  ) {
    super(
      `Training diverged at step ${step}: expected a finite minibatch loss, found ${loss}. ` +
        "Hint: lower the learning rate, or resume from the last checkpoint.",
    );
  }
}

/** A checkpoint folder that is missing, incomplete or not from this trainer. */
export class CheckpointError extends Error {
  override readonly name = "CheckpointError";
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly actual: string,
    /** What to change, in words that do not assume an app or a library call. */
    readonly hint = "resume from the folder a training run checkpointed into, unaltered",
  ) {
    super(`Cannot resume from ${path}: expected ${expected}, found ${actual}. Hint: ${hint}.`);
  }
}

/** A worker thread of workerThreads() failed to start or to finish a request. */
export class WorkerThreadError extends Error {
  override readonly name = "WorkerThreadError";
  constructor(
    readonly thread: number,
    readonly operation: string,
    readonly reason: string,
    /** What to change, in words that do not assume an app or a library call. */
    readonly hint = "train on the calling thread alone (one thread)",
  ) {
    super(`Worker thread ${thread} failed during ${operation}: expected a reply, found ${reason}. Hint: ${hint}.`);
  }
}
