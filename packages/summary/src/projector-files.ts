import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PROJECTOR_CONFIG_FILE, projectorFiles, type ProjectorEmbedding } from "./projector.js";

/**
 * Writes `embedding` for TensorBoard's projector into `dir` (a run folder, created if needed),
 * replacing an earlier one. Each file goes to a temporary name first and is renamed into
 * place, the config last, so the plugin never reads a half-written file or a config naming
 * a file that is not there yet. Resolves to the paths written.
 */
export async function writeProjector(dir: string, embedding: ProjectorEmbedding): Promise<string[]> {
  const files = projectorFiles(embedding);
  await mkdir(dir, { recursive: true });
  const names = [...files.keys()].filter((name) => name !== PROJECTOR_CONFIG_FILE);
  names.push(PROJECTOR_CONFIG_FILE);
  const written: string[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const temporary = `${path}.${process.pid}.tmp`;
    try {
      await writeFile(temporary, files.get(name)!);
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    written.push(path);
  }
  return written;
}
