import { join } from "node:path";
import { modelSequenceInput, preprocessDigit, sequencePixels, type PreprocessedDigit } from "@mnist/data";
import { MODEL_JSON } from "@mnist/rnn";
import { loadModel } from "@mnist/rnn/node";
import { selectBackend } from "../backend.js";
import { classify } from "../classify.js";
import { UsageError } from "../errors.js";
import type { ModelOptions } from "../options.js";
import { resolveModelFolder } from "../paths.js";
import { PngReadError, readPng } from "../png.js";
import { createReporter, reportMode } from "../reporter.js";
import type { CliIo } from "../run.js";

export async function predictCommand(files: string[], options: ModelOptions, io: CliIo): Promise<number> {
  const modelFolder = await resolveModelFolder("--model", options.model);
  // Every file is decoded before the model loads, so one bad file fails fast as a usage error.
  const digits: PreprocessedDigit[] = [];
  for (const file of files) {
    try {
      digits.push(preprocessDigit(await readPng(file)));
    } catch (error) {
      if (error instanceof PngReadError) throw new UsageError(file, error.message);
      throw error;
    }
  }
  const reporter = createReporter(io.stdout, reportMode(io.stdout, options.json));
  const backend = await selectBackend(options.backend);
  if (reporter.mode === "json") reporter.event("backend", undefined, { backend: backend.name, skipped: backend.skipped });

  const model = await loadModel(modelFolder);
  try {
    const side = Math.sqrt(digits[0]?.pixels.length ?? 0);
    const input = modelSequenceInput(model, { rows: side, cols: side }, join(modelFolder, MODEL_JSON));
    const pixels = new Float32Array(digits.length * side * side);
    digits.forEach((digit, n) => pixels.set(digit.pixels, n * side * side));
    classify(model, sequencePixels(pixels, digits.length, input), digits.length).forEach((result, n) => {
      const file = files[n]!;
      const { inverted, hasInk } = digits[n]!;
      const note = hasInk ? (inverted ? " (dark on light, inverted)" : "") : " (no ink found: blank image)";
      reporter.event("prediction", `${file}: ${result.digit} (probability ${result.probability.toFixed(4)})${note}`, {
        file,
        digit: result.digit,
        probability: result.probability,
        probabilities: result.probabilities,
        inverted,
        hasInk,
      });
    });
    return 0;
  } finally {
    model.dispose();
  }
}
