import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";

export const backendChoices = ["auto", "cpu", "wasm", "tensorflow", "tensorflow-gpu"] as const;
export type BackendChoice = (typeof backendChoices)[number];
export type BackendName = Exclude<BackendChoice, "auto">;

// Fastest first; the native ones are optional dependencies that often fail to install.
const autoOrder: readonly BackendName[] = ["tensorflow", "wasm", "cpu"];

// Both native packages register themselves under the tfjs backend name "tensorflow".
const nativePackages: Partial<Record<BackendName, string>> = {
  tensorflow: "@tensorflow/tfjs-node",
  "tensorflow-gpu": "@tensorflow/tfjs-node-gpu",
};

/** An explicitly requested backend that could not be started. */
export class BackendLoadError extends Error {
  constructor(
    readonly backend: BackendName,
    readonly reason: string,
  ) {
    super(describeFailure(backend, reason));
    this.name = "BackendLoadError";
  }
}

/** The backend now active and the ones auto mode skipped on the way. */
export interface BackendSelection {
  name: BackendName;
  skipped: { name: BackendName; reason: string }[];
}

/**
 * Makes `choice` the active TensorFlow.js backend. "auto" tries the native backend, then
 * wasm, then cpu, without complaint; an explicit choice that fails throws BackendLoadError.
 */
export async function selectBackend(choice: BackendChoice): Promise<BackendSelection> {
  if (choice !== "auto") {
    await activate(choice);
    return { name: choice, skipped: [] };
  }
  const skipped: BackendSelection["skipped"] = [];
  for (const name of autoOrder) {
    try {
      await activate(name);
      return { name, skipped };
    } catch (error) {
      skipped.push({ name, reason: error instanceof BackendLoadError ? error.reason : String(error) });
    }
  }
  throw new BackendLoadError("cpu", skipped.map((s) => `${s.name}: ${s.reason}`).join("; "));
}

async function activate(name: BackendName): Promise<void> {
  const nativePackage = nativePackages[name];
  if (nativePackage) {
    try {
      // A variable specifier keeps bundlers and tsc from requiring the optional package.
      await import(nativePackage);
    } catch (error) {
      throw new BackendLoadError(name, firstLine(error));
    }
  }
  const tfjsName = nativePackage ? "tensorflow" : name;
  let ok: boolean;
  try {
    ok = await tf.setBackend(tfjsName);
  } catch (error) {
    throw new BackendLoadError(name, firstLine(error));
  }
  if (!ok) throw new BackendLoadError(name, `tf.setBackend("${tfjsName}") returned false`);
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // The reason is embedded in a sentence, so drop its own final full stop.
  return text.split("\n")[0]!.trim().replace(/\.$/, "");
}

function describeFailure(backend: BackendName, reason: string): string {
  const nativePackage = nativePackages[backend];
  if (!nativePackage) {
    return `The ${backend} backend failed to start (${reason}). It ships with the cli, so this points at a broken install: run \`pnpm install\` again, or try --backend cpu.`;
  }
  const gpuNote = backend === "tensorflow-gpu" ? " (it also needs CUDA and cuDNN matching TensorFlow 2.9)" : "";
  return (
    `The ${backend} backend needs the native package ${nativePackage}, which could not be loaded: ${reason}. ` +
    `It is an optional dependency whose install downloads libtensorflow${gpuNote}. ` +
    `Fix: on a machine with internet run \`pnpm --filter cli add ${nativePackage}\`; if it is installed but its addon is missing, run ` +
    `\`npm rebuild ${nativePackage} --build-addon-from-source\`. Meanwhile --backend wasm is the fastest backend that needs nothing native.`
  );
}
