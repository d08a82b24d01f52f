import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { join } from "node:path";
import { build } from "tsup";

/** Scripts bundled from source for the parallel tests, since Node cannot start a worker from a .ts file. */
export interface BuiltScripts {
  /** The worker script, for WorkerThreadsOptions.workerScript. */
  worker: URL;
  /** parallel-exit.test-support.ts as a Node script; it finds the worker beside it, like dist does. */
  exitCheck: string;
  remove(): Promise<void>;
}

/**
 * Bundles the worker (and the exit check) from src with the "source" export
 * condition, leaving TensorFlow.js external. The output sits under this
 * package's node_modules so that those imports resolve as they do from dist.
 */
export async function buildParallelScripts(): Promise<BuiltScripts> {
  const cache = fileURLToPath(new URL("../node_modules/.cache", import.meta.url));
  await mkdir(cache, { recursive: true });
  const outDir = await mkdtemp(join(cache, "parallel-test-"));
  await build({
    config: false,
    silent: true,
    entry: {
      "parallel-worker": fileURLToPath(new URL("./parallel-worker.ts", import.meta.url)),
      "parallel-exit": fileURLToPath(new URL("./parallel-exit.test-support.ts", import.meta.url)),
    },
    outDir,
    format: ["esm"],
    platform: "node",
    target: "node20",
    dts: false,
    sourcemap: false,
    noExternal: [/^@mnist\//, /register_all_gradients/],
    esbuildOptions(options) {
      options.conditions = ["source"];
    },
  });
  return {
    worker: pathToFileURL(join(outDir, "parallel-worker.js")),
    exitCheck: join(outDir, "parallel-exit.js"),
    remove: () => rm(outDir, { recursive: true, force: true }),
  };
}
