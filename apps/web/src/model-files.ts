import { modelSequenceInput } from "@mnist/data";
import { MODEL_JSON, ModelFormatError, readModel, writeModel, type SequenceClassifier } from "@mnist/rnn";
import { DRAWN_IMAGE_SIDE } from "./classify.js";

/**
 * A model from the files of a folder written by `mnist-rnn train --save` (or by this page):
 * model.json and the weight files its manifest lists, picked one by one or as a folder.
 */
export async function modelFromFiles(files: readonly File[]): Promise<SequenceClassifier> {
  const byName = new Map(files.map((file) => [file.name, file]));
  const model = await readModel(async (name) => {
    const file = byName.get(name);
    if (file === undefined) {
      const hint = name === MODEL_JSON ? "choose the folder saved with --save, or its model.json and weights.bin" : `${MODEL_JSON} lists it: choose it too`;
      throw new ModelFormatError(name, "(file)", "one of the chosen files", `only ${[...byName.keys()].join(", ")}`, hint);
    }
    return new Uint8Array(await file.arrayBuffer());
  });
  try {
    // The pad draws MNIST-sized digits; the model must read such images (rows or pixels, permuted or not).
    modelSequenceInput(model, { rows: DRAWN_IMAGE_SIDE, cols: DRAWN_IMAGE_SIDE }, MODEL_JSON);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

/** The same files the CLI's --save writes, as downloads. */
export async function downloadModel(model: SequenceClassifier): Promise<void> {
  await writeModel(model, async (name, bytes) => {
    download(new Blob([bytes as BlobPart], { type: name === MODEL_JSON ? "application/json" : "application/octet-stream" }), name);
  });
}

export function download(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  link.click();
  // The download has taken its copy once the click's task has run.
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
