import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pixelPermutation } from "@mnist/data";
import { encodeLayersModel, SequenceClassifier, type DecodedModel, type ExpectedInput, type LayersModelJson, type ModelConfig } from "@mnist/rnn";
import { selectBackend } from "../backend.js";
import type { ModelOptions } from "../options.js";
import { requireWritableFolder, resolveModelFolder } from "../paths.js";
import { createReporter, reportMode } from "../reporter.js";
import type { CliIo } from "../run.js";
import { sequenceInputOf, type SequenceInput } from "../sequence-input.js";

/** `export` flags. */
export interface ExportOptions extends Omit<ModelOptions, "data"> {
  /** Folder for the TensorFlow.js Layers model (model.json + weights.bin). */
  out: string;
  /** Allow a non-empty --out folder. */
  force: boolean;
}

export async function exportCommand(options: ExportOptions, io: CliIo): Promise<number> {
  const modelFolder = await resolveModelFolder("--model", options.model);
  await requireWritableFolder("--out", options.out, { mustBeEmpty: true, force: options.force });
  const reporter = createReporter(io.stdout, reportMode(io.stdout, options.json));
  const backend = await selectBackend(options.backend);
  if (reporter.mode === "json") reporter.event("backend", undefined, { backend: backend.name, skipped: backend.skipped });

  const model = await SequenceClassifier.load(modelFolder);
  try {
    const expectedInput = expectedInputOf(sequenceInputOf(model.metadata, modelFolder), model.config);
    const { modelJson, weights } = encodeLayersModel(await decodedModel(model), { expectedInput });
    const files = await writeLayersModel(options.out, modelJson, weights);
    const { cell, layers, steps, inputSize } = model.config;
    const modelJsonPath = join(options.out, "model.json");
    reporter.event(
      "export",
      [
        `Wrote ${files.join(" and ")}: a TensorFlow.js Layers model (Dense, ${layers} x ${cell.toUpperCase()}, Dense softmax) for tf.loadLayersModel`,
        `Input: [batch, ${steps}, ${inputSize}] float32, ${expectedInput.description}`,
        `Keras .h5: tensorflowjs_converter --input_format=tfjs_layers_model --output_format=keras ${modelJsonPath} model.h5`,
      ].join("\n"),
      { model: modelFolder, out: options.out, files, input: { shape: [null, steps, inputSize], description: expectedInput.description, permuted: expectedInput.pixelOrder !== undefined } },
    );
    return 0;
  } finally {
    model.dispose();
  }
}

/**
 * What a Keras or tfjs-layers user must feed the exported model, in words and (for permuted
 * images) as the pixel order: a Layers model has no step that reorders pixels.
 */
export function expectedInputOf(input: SequenceInput, config: ModelConfig): ExpectedInput {
  const { steps, inputSize } = config;
  const scaled = "pixel values / 255 (0 = background)";
  const order =
    input.sequence === "rows"
      ? `${steps} steps of ${inputSize} pixels, step r = image row r, ${scaled}`
      : `${steps} steps of 1 pixel, the image's pixels in row-major order, ${scaled}`;
  if (input.permute === undefined) return { description: order };
  return {
    description: `${order}, after reordering the ${steps * inputSize} pixels by the permutation with seed ${input.permute}: value k of the sequence is pixel pixelOrder[k] of the row-major image (pixelOrder is in model.json's userDefinedMetadata.expectedInput; the model cannot permute by itself)`,
    pixelOrder: Array.from(pixelPermutation(steps * inputSize, input.permute)),
  };
}

/** The model's config, metadata and current weight values. */
async function decodedModel(model: SequenceClassifier): Promise<DecodedModel> {
  const values = new Map<string, Float32Array>();
  for (const [name, variable] of Object.entries(model.variables)) values.set(name, Float32Array.from(await variable.data()));
  return { config: model.config, values, metadata: model.metadata };
}

/**
 * Writes model.json and the weights file it lists into `dir`, each under a temporary name first
 * and renamed into place (weights before model.json), so a reader never sees half a model.
 * Returns the paths written.
 */
async function writeLayersModel(dir: string, modelJson: LayersModelJson, weights: ArrayBuffer): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const [weightsFile = "weights.bin"] = modelJson.weightsManifest[0]?.paths ?? [];
  const suffix = `.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const writes: [string, Uint8Array | string][] = [
    [join(dir, weightsFile), new Uint8Array(weights)],
    [join(dir, "model.json"), `${JSON.stringify(modelJson, null, 2)}\n`],
  ];
  for (const [target, content] of writes) {
    await writeFile(target + suffix, content);
    await rename(target + suffix, target);
  }
  return writes.map(([target]) => target);
}
