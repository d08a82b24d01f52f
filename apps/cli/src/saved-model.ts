import type { SequenceClassifier } from "@mnist/rnn";
import { loadModel } from "@mnist/rnn/node";
import { selectBackend, type BackendChoice } from "./backend.js";
import type { ModelFolder } from "./folder-flags.js";
import { modelLimitsOf, type ModelLimitOptions } from "./options.js";
import type { Reporter } from "./reporter.js";

/**
 * What evaluate, predict and export do before their own work: select the backend and report it
 * (as a line, or only in --json, as `backendLine` says), say which weights --model resolved to
 * when it is not the folder's model.json, and load them.
 */
export async function loadSavedModel(
  { folder, note }: ModelFolder,
  options: ModelLimitOptions & { backend: BackendChoice },
  reporter: Reporter,
  backendLine: boolean,
): Promise<SequenceClassifier> {
  const backend = await selectBackend(options.backend);
  if (backendLine || reporter.mode === "json") {
    reporter.event("backend", backendLine ? `Backend: ${backend.name}` : undefined, { backend: backend.name, skipped: backend.skipped });
  }
  if (note !== undefined) reporter.event("model", note, { model: folder });
  return loadModel(folder, modelLimitsOf(options));
}
