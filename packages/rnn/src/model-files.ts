import { ModelFormatError } from "./errors.js";
import { decodeArtifacts, type DecodedModel, type ModelJson } from "./artifacts.js";

const MODEL_JSON_FILE = "model.json";

/**
 * Writes model.json and its weight files so that a reader never sees a half-written model:
 * each file goes to a temporary name first and is renamed into place, weights before model.json.
 * fs is imported on demand so that browser bundles, which only use artifacts, never load it.
 */
export async function writeModelFiles(dir: string, modelJson: ModelJson, weights: ArrayBuffer): Promise<void> {
  const fs = await import("node:fs/promises");
  const path = await import("node:path");
  await fs.mkdir(dir, { recursive: true });
  const [weightsFile] = modelJson.weightsManifest[0]?.paths ?? [];
  if (weightsFile === undefined) throw new Error("internal: manifest without a weights path");
  const suffix = `.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const writes: [string, Uint8Array | string][] = [
    [weightsFile, new Uint8Array(weights)],
    [MODEL_JSON_FILE, `${JSON.stringify(modelJson, null, 2)}\n`],
  ];
  for (const [name, content] of writes) {
    const target = path.join(dir, name);
    await fs.writeFile(target + suffix, content);
    await fs.rename(target + suffix, target);
  }
}

export async function readModelFiles(dir: string): Promise<DecodedModel> {
  const fs = await import("node:fs/promises");
  const path = await import("node:path");
  const modelJsonPath = path.join(dir, MODEL_JSON_FILE);
  const text = await readFileOrFail(modelJsonPath, async () => fs.readFile(modelJsonPath, "utf8"));
  let modelJson: unknown;
  try {
    modelJson = JSON.parse(text);
  } catch (error) {
    throw new ModelFormatError(modelJsonPath, "(JSON syntax)", "valid JSON", (error as Error).message);
  }
  const paths = weightPaths(modelJson, modelJsonPath);
  const shards: Uint8Array[] = [];
  for (const name of paths) {
    const shardPath = path.join(dir, name);
    shards.push(await readFileOrFail(shardPath, () => fs.readFile(shardPath)));
  }
  const weights = new Uint8Array(shards.reduce((sum, shard) => sum + shard.length, 0));
  let offset = 0;
  for (const shard of shards) {
    weights.set(shard, offset);
    offset += shard.length;
  }
  const sources = { modelJson: modelJsonPath, weights: path.join(dir, paths.join("+")) };
  return decodeArtifacts(modelJson, weights.buffer, sources);
}

/** The weight files model.json lists, in order; only plain names inside the model's folder. */
function weightPaths(modelJson: unknown, modelJsonPath: string): string[] {
  const manifest = (modelJson as { weightsManifest?: unknown } | null)?.weightsManifest;
  if (!Array.isArray(manifest) || manifest.length === 0) {
    throw new ModelFormatError(modelJsonPath, "weightsManifest", "a non-empty array of weight groups", JSON.stringify(manifest) ?? "nothing (field missing)");
  }
  return manifest.flatMap((group: unknown, g) => {
    const paths = (group as { paths?: unknown } | null)?.paths;
    if (!Array.isArray(paths) || !paths.every((p) => typeof p === "string" && /^[^/\\]+$/.test(p) && p !== ".." && p !== ".")) {
      throw new ModelFormatError(modelJsonPath, `weightsManifest[${g}].paths`, 'an array of file names in the same folder, e.g. ["weights.bin"]', JSON.stringify(paths) ?? "nothing (field missing)");
    }
    return paths as string[];
  });
}

async function readFileOrFail<T>(file: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ModelFormatError(file, "(file)", "a readable file", code, "check the folder passed to SequenceClassifier.load; it must hold model.json and the weights it lists");
  }
}
