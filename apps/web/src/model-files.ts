import { MODEL_JSON, ModelFormatError, readModel, type SequenceClassifier } from "@mnist/rnn";
import { modelSequenceInput } from "@mnist/data";
import { DRAWN_IMAGE_SIDE } from "./classify.js";
import type { NamedFile } from "./training-protocol.js";

/** The bytes of the chosen files, by name. */
export async function readChosenFiles(files: readonly File[]): Promise<NamedFile[]> {
  return Promise.all(files.map(async (file) => ({ name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) })));
}

/**
 * A model from the files of a folder written by `mnist-rnn train --save` or `mnist-rnn export`
 * (or by this page), in either format: model.json and the weight files its manifest lists,
 * picked one by one or as a folder.
 */
export async function modelFromFiles(files: readonly NamedFile[]): Promise<SequenceClassifier> {
  const byName = new Map(files.map((file) => [file.name, file.bytes]));
  const model = await readModel(async (name) => {
    const bytes = byName.get(name);
    if (bytes === undefined) {
      const hint = name === MODEL_JSON ? "choose the folder saved with --save, or its model.json and weights.bin" : `${MODEL_JSON} lists it: choose it too`;
      throw new ModelFormatError(name, "(file)", "one of the chosen files", `only ${[...byName.keys()].join(", ")}`, hint);
    }
    return bytes;
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

/** Model files (as the training worker writes them) as downloads. */
export function downloadFiles(files: readonly NamedFile[]): void {
  for (const { name, bytes } of files) {
    download(new Blob([bytes as BlobPart], { type: name === MODEL_JSON ? "application/json" : "application/octet-stream" }), name);
  }
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
