import { join } from "node:path";
import { describeSequenceInput, modelSequenceInput } from "@mnist/data";
import { MODEL_JSON } from "@mnist/rnn";
import { saveModel } from "@mnist/rnn/node";
import type { ModelLimitOptions } from "../options.js";
import { requireWritableFolder, resolveModelFolder } from "../folder-flags.js";
import { createReporter, reportMode } from "../reporter.js";
import type { CliIo } from "../run.js";
import { loadSavedModel } from "../saved-model.js";
import type { BackendChoice } from "../backend.js";

/** `export` flags. */
export interface ExportOptions extends ModelLimitOptions {
  /** Folder written by train --save. */
  model: string;
  /** Folder for the TensorFlow.js Layers model (model.json + weights.bin). */
  out: string;
  /** Allow a non-empty --out folder. */
  force: boolean;
  backend: BackendChoice;
  json: boolean;
}

export async function exportCommand(options: ExportOptions, io: CliIo): Promise<number> {
  const resolved = await resolveModelFolder("--model", options.model);
  const modelFolder = resolved.folder;
  await requireWritableFolder("--out", options.out, { mustBeEmpty: true, force: options.force });
  const reporter = createReporter(io.stdout, reportMode(io.stdout, options.json));
  const model = await loadSavedModel(resolved, options, reporter, false);
  try {
    const { cell, layers, steps, inputSize } = model.config;
    // MNIST's 28x28 images: the model's recorded input must fit them, as for evaluate.
    const input = modelSequenceInput(model, { rows: 28, cols: 28 }, join(modelFolder, MODEL_JSON));
    const expectedInput = describeSequenceInput(input, model.config);
    await saveModel(model, options.out, { format: "tfjs-layers", expectedInput });
    const files = [join(options.out, "weights.bin"), join(options.out, MODEL_JSON)];
    const permuted = expectedInput.pixelOrder === undefined ? "" : " (the pixel order is in model.json's userDefinedMetadata.expectedInput.pixelOrder: the model cannot permute by itself)";
    reporter.event(
      "export",
      [
        `Wrote ${files.join(" and ")}: a TensorFlow.js Layers model (Dense, ${layers} x ${cell.toUpperCase()}, Dense softmax) for tf.loadLayersModel`,
        `Input: [batch, ${steps}, ${inputSize}] float32, ${expectedInput.description}${permuted}`,
        `Keras .h5: tensorflowjs_converter --input_format=tfjs_layers_model --output_format=keras ${files[1]} model.h5`,
      ].join("\n"),
      { model: modelFolder, out: options.out, files, input: { shape: [null, steps, inputSize], description: expectedInput.description, permuted: expectedInput.pixelOrder !== undefined } },
    );
    return 0;
  } finally {
    model.dispose();
  }
}
