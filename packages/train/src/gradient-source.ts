import type { MnistSplit } from "@mnist/data";
import type { SequenceClassifier } from "@mnist/rnn";
import type { TrainConfig } from "./config.js";
import { evaluate, type EvaluateOptions, type EvaluationResult } from "./evaluate.js";
import { minibatchGradients, type MinibatchGradients, type MinibatchInput } from "./minibatch.js";

/**
 * Where a Trainer's work is computed, for the model's current weights: one minibatch's loss,
 * accuracy and gradients, and evaluations. The Trainer keeps the model, Adam and the data
 * order, so every source trains the same run.
 */
export interface GradientSource {
  /** Loss, accuracy and the gradients of the mean loss over the minibatch; the caller owns the gradients. */
  minibatch(batch: MinibatchInput): Promise<MinibatchGradients>;
  /** evaluate() of the model on a split. */
  evaluate(split: MnistSplit, options: EvaluateOptions): Promise<EvaluationResult>;
  /** Threads sharing each minibatch, the calling one included (a pool's size); default 1. */
  readonly size?: number;
  /** Frees what the source holds (threads, buffers); the model stays usable. */
  dispose(): void;
}

/** Makes a Trainer's GradientSource for its model and config (TrainerOptions.gradients); the Trainer disposes it. */
export type GradientSourceFactory = (model: SequenceClassifier, config: TrainConfig) => GradientSource;

/** The default GradientSource: everything on the calling thread. */
export const onThisThread: GradientSourceFactory = (model) => ({
  minibatch: (batch) => minibatchGradients(model, batch),
  evaluate: (split, options) => evaluate(model, split, options),
  dispose() {},
});
