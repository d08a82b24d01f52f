import { SequenceClassifier } from "@mnist/rnn";

const MODEL_JSON = "model.json";

/**
 * A model from the files of a folder written by `mnist-rnn train --save` (or by this page):
 * model.json and the weight files its manifest lists, picked one by one or as a folder.
 */
export async function modelFromFiles(files: readonly File[]): Promise<SequenceClassifier> {
  const byName = new Map(files.map((file) => [file.name, file]));
  const modelFile = byName.get(MODEL_JSON);
  if (modelFile === undefined) {
    throw new Error(`no ${MODEL_JSON} among the ${files.length} chosen files (${[...byName.keys()].join(", ")}); choose the folder saved with --save, or its model.json and weights.bin`);
  }
  const modelJson = JSON.parse(await modelFile.text()) as { weightsManifest?: { paths?: string[] }[] };
  const paths = (modelJson.weightsManifest ?? []).flatMap((group) => group.paths ?? []);
  const shards: Uint8Array[] = [];
  for (const path of paths) {
    const shard = byName.get(path);
    if (shard === undefined) throw new Error(`${MODEL_JSON} lists the weights file "${path}", which was not chosen; choose it too`);
    shards.push(new Uint8Array(await shard.arrayBuffer()));
  }
  const weights = new Uint8Array(shards.reduce((sum, shard) => sum + shard.length, 0));
  let offset = 0;
  for (const shard of shards) {
    weights.set(shard, offset);
    offset += shard.length;
  }
  const model = SequenceClassifier.fromArtifacts(modelJson, weights.buffer);
  // The CLI can train on pixel sequences or permuted images; the pad draws 28 rows of 28 pixels.
  const { steps, inputSize } = model.config;
  const permuted = model.metadata.permute !== undefined;
  if (steps !== 28 || inputSize !== 28 || permuted) {
    model.dispose();
    throw new Error(
      `this page reads digits as 28 rows of 28 pixels; the chosen model reads ${steps} steps of ${inputSize}${permuted ? " of permuted pixels" : ""} (train it with --sequence rows and without --permute)`,
    );
  }
  return model;
}

/** The same two files the CLI's --save writes, as downloads. */
export async function downloadModel(model: SequenceClassifier): Promise<void> {
  const { modelJson, weights } = await model.toArtifacts();
  const weightsFile = (modelJson as { weightsManifest: { paths: string[] }[] }).weightsManifest[0]?.paths[0] ?? "weights.bin";
  download(new Blob([`${JSON.stringify(modelJson, null, 2)}\n`], { type: "application/json" }), MODEL_JSON);
  download(new Blob([weights], { type: "application/octet-stream" }), weightsFile);
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
