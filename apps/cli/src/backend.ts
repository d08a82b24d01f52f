import { createRequire } from "node:module";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";

export const backendChoices = ["auto", "cpu", "wasm", "tensorflow", "tensorflow-gpu"] as const;
export type BackendChoice = (typeof backendChoices)[number];
export type BackendName = Exclude<BackendChoice, "auto">;

// Fastest first. The native backend is opt-in (`pnpm native`), so auto tries it only when installed.
const autoOrder: readonly BackendName[] = ["tensorflow", "wasm", "cpu"];

// Both native packages register themselves under the tfjs backend name "tensorflow".
const nativePackages: Partial<Record<BackendName, string>> = {
  tensorflow: "@tensorflow/tfjs-node",
  "tensorflow-gpu": "@tensorflow/tfjs-node-gpu",
};

// What installs each native package into the cli; the CPU one has a root script of its own.
const optInCommands: Partial<Record<BackendName, string>> = {
  tensorflow: "pnpm native",
  "tensorflow-gpu": "pnpm --filter cli add @tensorflow/tfjs-node-gpu@catalog:",
};

const NOT_INSTALLED = "it is not installed";

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
 * Makes `choice` the active TensorFlow.js backend. "auto" tries the native backend when it is
 * installed, then wasm, then cpu, without complaint; an explicit choice that fails throws
 * BackendLoadError.
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
    if (!isInstalled(nativePackage)) throw new BackendLoadError(name, NOT_INSTALLED);
    try {
      // A variable specifier keeps bundlers and tsc from requiring the opt-in package.
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

function isInstalled(packageName: string): boolean {
  try {
    createRequire(import.meta.url).resolve(packageName);
    return true;
  } catch {
    return false;
  }
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
  const optIn = `run \`${optInCommands[backend]}\` in the repository on a machine with internet (it adds ${nativePackage} to the cli and downloads libtensorflow${gpuNote})`;
  const fix =
    reason === NOT_INSTALLED
      ? `It is opt-in: ${optIn}.`
      : `Fix: if its addon is missing, run \`npm rebuild ${nativePackage} --build-addon-from-source\`, or ${optIn} again.`;
  return `The ${backend} backend needs the native package ${nativePackage}, which could not be loaded: ${reason}. ${fix} Meanwhile --backend wasm is the fastest backend that needs nothing native.`;
}
