import type { SequenceInput } from "@mnist/data";
import type { ModelConfig } from "@mnist/rnn";
import type { HParamsExperiment, HParamValue } from "@mnist/summary";
import type { TrainConfig } from "./config.js";

/** What a training run was asked to do: the HParams table's values for it. */
export interface RunSettings {
  model: ModelConfig;
  train: TrainConfig;
  input: SequenceInput;
  /** The CLI's --preset that filled the flags; unset for a resumed run or a run of the web page. */
  preset?: string;
  /** Whether the weights of the best validation are tested. */
  keepBest: boolean;
}

/**
 * The HParams table's columns, the same for every run (the CLI's and the web page's) so that
 * TensorBoard compares runs in one table: what shapes a run, named by the CLI's flags, then its
 * results.
 */
export const RUN_EXPERIMENT: HParamsExperiment = {
  hparams: [
    { name: "lr", type: "number", description: "--lr: Adam step size at the schedule's peak" },
    { name: "batch_size", type: "number", description: "--batch-size" },
    { name: "steps_budget", type: "string", description: "--iters samples or --epochs passes" },
    { name: "hidden", type: "number", description: "--hidden: width of the recurrent cell" },
    { name: "cell", type: "string", values: ["lstm", "gru"], description: "--cell" },
    { name: "layers", type: "number", description: "--layers" },
    { name: "recurrent_init", type: "string", values: ["glorot", "orthogonal"], description: "--recurrent-init" },
    { name: "dense_init", type: "string", values: ["glorot", "normal"], description: "--dense-init" },
    { name: "output_bias", type: "string", values: ["added", "in-weights"], description: "--output-bias" },
    { name: "sequence", type: "string", values: ["rows", "pixels"], description: "--sequence" },
    { name: "permute", type: "string", description: "--permute seed, or none" },
    { name: "preset", type: "string", description: "--preset" },
    { name: "warmup_steps", type: "number", description: "--warmup-steps" },
    { name: "decay", type: "string", values: ["none", "cosine", "step"], description: "--decay" },
    { name: "min_lr", type: "number", description: "--min-lr" },
    { name: "clip_norm", type: "number", description: "--clip-norm, 0 for none" },
    { name: "dropout", type: "number", description: "--dropout" },
    { name: "max_shift", type: "number", description: "--max-shift" },
    { name: "keep_best", type: "bool", values: [false, true], description: "--keep-best" },
    { name: "seed", type: "number", description: "--seed" },
  ],
  metrics: [
    { tag: "test/accuracy", description: "accuracy on the 10000 test images" },
    { tag: "test/loss", description: "mean cross-entropy on the test images" },
    { tag: "validation/best_accuracy", dataset: "validation", description: "best accuracy on the 5000 held-out training images" },
    { tag: "accuracy", dataset: "training", description: "last training-batch accuracy" },
    { tag: "loss", dataset: "training", description: "last training-batch loss" },
  ],
};

/** One value per column of RUN_EXPERIMENT (preset only when known). */
export function runHParams(settings: RunSettings): Record<string, HParamValue> {
  const { model, train, input } = settings;
  return {
    lr: train.learningRate,
    batch_size: train.batchSize,
    steps_budget: train.epochs === undefined ? `${train.trainingIters} samples` : `${train.epochs} epochs`,
    hidden: model.hiddenSize,
    cell: model.cell,
    layers: model.layers,
    recurrent_init: model.recurrentInit,
    dense_init: model.denseInit,
    output_bias: model.outputBias,
    sequence: input.order,
    permute: input.permute === undefined ? "none" : String(input.permute),
    ...(settings.preset === undefined ? {} : { preset: settings.preset }),
    warmup_steps: train.warmupSteps,
    decay: train.decay,
    min_lr: train.minLearningRate,
    clip_norm: train.clipNorm ?? 0,
    dropout: train.dropout,
    max_shift: train.maxShift,
    keep_best: settings.keepBest,
    seed: train.seed,
  };
}
