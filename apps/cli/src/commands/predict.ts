import { join } from "node:path";
import { InputTooLargeError, modelSequenceInput, PngFormatError, preprocessDigit, sequencePixels, type PreprocessedDigit } from "@mnist/data";
import { readPngFile } from "@mnist/data/node";
import { MODEL_JSON } from "@mnist/rnn";
import { classify } from "../classify.js";
import { UsageError } from "../errors.js";
import { decodeLimitsOf, type ModelOptions } from "../options.js";
import { resolveModelFolder } from "../folder-flags.js";
import { createReporter, reportMode } from "../reporter.js";
import type { CliIo } from "../run.js";
import { loadSavedModel } from "../saved-model.js";

export async function predictCommand(files: string[], options: ModelOptions, io: CliIo): Promise<number> {
  const resolved = await resolveModelFolder("--model", options.model);
  const modelFolder = resolved.folder;
  // Every file is decoded before the model loads, so one bad file fails fast as a usage error.
  const limits = decodeLimitsOf(options);
  const digits: PreprocessedDigit[] = [];
  for (const file of files) {
    digits.push(preprocessDigit(await readPngFile(file, limits).catch((error: unknown) => Promise.reject(asUsageError(file, error)))));
  }
  const reporter = createReporter(io.stdout, reportMode(io.stdout, options.json));
  const model = await loadSavedModel(resolved, options, reporter, false);
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

function asUsageError(file: string, error: unknown): unknown {
  // Both messages start with the file name, which UsageError prints itself.
  if (error instanceof PngFormatError || error instanceof InputTooLargeError) return new UsageError(file, error.message.slice(file.length + 2));
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return new UsageError(file, "no such file");
  if (typeof code === "string") return new UsageError(file, `cannot read it (${code})`);
  return error;
}
