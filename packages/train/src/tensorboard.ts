import type * as tf from "@tensorflow/tfjs-core";
import type { SummaryWriter } from "@mnist/summary";
import type { TrainHooks } from "./hooks.js";

/** The part of @mnist/summary's SummaryWriter the training hooks write to. */
export type TensorBoardWriter = Pick<SummaryWriter, "scalar" | "histogram">;

/** Options of tensorBoardHooks(). */
export interface TensorBoardOptions {
  /** Steps between weight histograms; default 500. */
  histogramStep?: number;
}

/**
 * Hooks that write what the tutorial's TensorBoard shows: scalars "loss" and
 * "accuracy" at every summary step (with "learning_rate" and "gradient_norm"),
 * a histogram per model variable every histogramStep steps,
 * "<split>/accuracy", "<split>/loss" after an evaluation (e.g. "validation/loss"), and
 * "validation/best_accuracy", the best validation accuracy so far (a column of the HParams table).
 */
export function tensorBoardHooks(
  writer: TensorBoardWriter,
  model: { readonly variables: Readonly<Record<string, tf.Variable>> },
  options: TensorBoardOptions = {},
): TrainHooks {
  const histogramStep = options.histogramStep ?? 500;
  let bestValidation = Number.NEGATIVE_INFINITY;
  return {
    onSummary(e) {
      writer.scalar("loss", e.loss, e.step);
      writer.scalar("accuracy", e.accuracy, e.step);
      writer.scalar("learning_rate", e.learningRate, e.step);
      writer.scalar("gradient_norm", e.gradientNorm, e.step);
    },
    async onStep(e) {
      if (e.step % histogramStep !== 0) return;
      for (const [name, variable] of Object.entries(model.variables)) {
        // A copy: the backend may hand out its live buffer, and the writer may keep the values.
        writer.histogram(name, Float32Array.from(await variable.data()), e.step);
      }
    },
    onEvaluate(e) {
      writer.scalar(`${e.split}/accuracy`, e.accuracy, e.step);
      writer.scalar(`${e.split}/loss`, e.loss, e.step);
      if (e.split === "validation") {
        bestValidation = Math.max(bestValidation, e.accuracy);
        writer.scalar("validation/best_accuracy", bestValidation, e.step);
      }
    },
  };
}
