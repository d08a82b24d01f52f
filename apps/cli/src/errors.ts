import { IdxFormatError, InputTooLargeError, PngFormatError, SequenceInputError } from "@mnist/data";
import { ModelFormatError, ModelTooLargeError } from "@mnist/rnn";
import { SummaryWriteError } from "@mnist/summary";
import { CheckpointError, ConfigError, WorkerThreadError } from "@mnist/train";

/** A bad flag or argument, found before any work starts; the CLI exits with code 2. */
export class UsageError extends Error {
  constructor(
    /** The flag or argument at fault, as typed: "--save", "image". */
    readonly flag: string,
    /** What is wrong with it and what would be accepted. */
    readonly problem: string,
  ) {
    super(`${flag}: ${problem}`);
    this.name = "UsageError";
  }
}

/**
 * Errors that mean a file the user named is not what it must be (damaged, too large, of another
 * kind): like a bad flag they are the user's input, found before any work is done, so they exit 2.
 */
const INPUT_ERRORS = [IdxFormatError, InputTooLargeError, PngFormatError, SequenceInputError, ModelFormatError, ModelTooLargeError, CheckpointError];

export function isInputError(error: unknown): boolean {
  return error instanceof UsageError || INPUT_ERRORS.some((kind) => error instanceof kind);
}

/** The train flag behind each field of @mnist/train's configs and plan, for its ConfigErrors. */
const FLAG_OF_FIELD: Record<string, string> = {
  learningRate: "--lr",
  warmupSteps: "--warmup-steps",
  decay: "--decay",
  minLearningRate: "--min-lr",
  clipNorm: "--clip-norm",
  batchSize: "--batch-size",
  trainingIters: "--iters",
  epochs: "--epochs",
  displayStep: "--display-step",
  seed: "--seed",
  dropout: "--dropout",
  maxShift: "--max-shift",
  threads: "--workers",
  "training split": "--data",
  "validation split": "--data",
  "test split": "--data",
};

/**
 * A library error as a CLI user reads it: @mnist/train words its messages for any caller (config
 * fields, "one thread"), so errors whose field maps to a flag are told as that flag, with the
 * library's hint. Other errors pass unchanged.
 */
export function asCliError(error: unknown): unknown {
  if (error instanceof ConfigError && FLAG_OF_FIELD[error.field] !== undefined) {
    const what = error.field.endsWith("split") ? `the ${error.field}: ` : "";
    return new UsageError(FLAG_OF_FIELD[error.field]!, `${what}expected ${error.expected}, found ${error.actual}. Hint: ${error.hint}.`);
  }
  if (error instanceof WorkerThreadError) {
    return new Error(
      `Worker thread ${error.thread} failed during ${error.operation}: expected a reply, found ${error.reason}. Hint: run with --workers 1 to train on one thread.`,
      { cause: error },
    );
  }
  if (error instanceof SummaryWriteError) {
    const cause = error.cause instanceof Error ? error.cause.message : String(error.cause);
    return new Error(`--logdir: could not write the TensorBoard event file: ${cause}. Hint: free space on that disk, or choose another --logdir.`, { cause: error });
  }
  return error;
}

/**
 * True for an engine that could not allocate: a JavaScript ArrayBuffer (cpu), or a wasm heap that
 * cannot grow further (the engine prints the failed allocations, then aborts): judged from the
 * error and what the engine printed before it. The CLI refuses models it estimates too large before
 * building them; this catches what the estimate missed.
 */
export function isOutOfMemory(error: unknown, printed: readonly string[] = []): boolean {
  const text = [error instanceof Error ? `${error.name}: ${error.message}` : String(error), ...printed].join("\n");
  return /Array buffer allocation failed|Cannot enlarge memory|[Oo]ut of memory|\bOOM\b|[Ff]ailed to allocate/.test(text);
}

/** Exit codes: 0 success, 1 failure while working, 2 bad usage, 128+signal when interrupted. */
export const exitCodes = { ok: 0, failure: 1, usage: 2, SIGINT: 130, SIGTERM: 143 } as const;
