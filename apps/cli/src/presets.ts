import type { Command } from "commander";
import type { PresetName, TrainOptions } from "./options.js";

/**
 * Flag values each preset sets unless the flag is typed. "tutorial-exact" is the tutorial's model
 * with the quirks our default fixes: N(0, 1) input and output layers (tf.random_normal), biases
 * included, and the output bias added to the weight matrix, h*(W + b), as the widely copied
 * versions of the tutorial write it (--output-bias added gives the original repository's
 * h*W + b). "best" is the configuration the ablation in BENCHMARKS.md selected on the validation
 * split: about 10 minutes on 2 cores.
 */
export const PRESETS: Record<PresetName, Partial<TrainOptions>> = {
  tutorial: { validateEvery: "off" },
  "tutorial-exact": { validateEvery: "off", denseInit: "normal", outputBias: "in-weights" },
  best: {
    validateEvery: "epoch",
    epochs: 20,
    lr: 0.002,
    warmupSteps: 200,
    decay: "cosine",
    clipNorm: 5,
    keepBest: true,
    maxShift: 2,
    recurrentInit: "orthogonal",
  },
};

export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/** Fills `options` from its preset where the user did not type the flag. */
export function applyPreset(options: TrainOptions, command: Pick<Command, "getOptionValueSource">): void {
  const typed = (key: string) => command.getOptionValueSource(key) === "cli";
  for (const [key, value] of Object.entries(PRESETS[options.preset])) {
    // A typed sample budget replaces the preset's epochs, as --epochs replaces --iters.
    if (key === "epochs" && typed("iters")) continue;
    // Shifting a picture means nothing to a pixel sequence or a permuted one.
    if (key === "maxShift" && (options.sequence !== "rows" || options.permute !== undefined)) continue;
    if (!typed(key)) (options as unknown as Record<string, unknown>)[key] = value;
  }
}
