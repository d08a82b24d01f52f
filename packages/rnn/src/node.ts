import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ModelFormatError, ModelTooLargeError, ModelWriteError } from "./errors.js";
import { DEFAULT_MAX_MODEL_BYTES, readModel, writeModel, type ReadModelOptions, type WriteModelOptions } from "./model-io.js";
import type { SequenceClassifier } from "./sequence-classifier.js";

/**
 * Reads the model saved in folder `dir` (model.json and the weight files it lists). A file larger
 * than `maxBytes` is refused from its size on disk, before it is read.
 */
export async function loadModel(dir: string, options: Pick<ReadModelOptions, "maxBytes"> = {}): Promise<SequenceClassifier> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MODEL_BYTES;
  return readModel(
    async (name) => {
      const file = join(dir, name);
      try {
        const { size } = await stat(file);
        if (size > maxBytes) {
          throw new ModelTooLargeError(file, "(file size)", size, maxBytes);
        }
        return await readFile(file);
      } catch (error) {
        if (error instanceof ModelTooLargeError) throw error;
        const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        throw new ModelFormatError(file, "(file)", "a readable file", code, "the folder must hold model.json and the weight files it lists");
      }
    },
    { describe: (name) => join(dir, name), maxBytes },
  );
}

/**
 * Writes the model into folder `dir` (made if missing) so that a reader never sees a half-written
 * model: each file goes to a temporary name first and is renamed into place, model.json last.
 */
export async function saveModel(model: SequenceClassifier, dir: string, options: WriteModelOptions = {}): Promise<void> {
  await mkdir(dir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    throw new ModelWriteError(dir, error.code ?? error.message);
  });
  const suffix = `.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeModel(
    model,
    async (name, bytes) => {
      const target = join(dir, name);
      try {
        await writeFile(target + suffix, bytes);
        await rename(target + suffix, target);
      } catch (error) {
        await rm(target + suffix, { force: true });
        throw new ModelWriteError(target, (error as NodeJS.ErrnoException).code ?? (error as Error).message);
      }
    },
    options,
  );
}
