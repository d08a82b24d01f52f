import { defineConfig } from "tsup";

export default defineConfig({
  // parallel-worker.js is the script workerThreads() starts in each worker thread.
  entry: ["src/index.ts", "src/node.ts", "src/parallel-worker.ts"],
  format: ["esm"],
  dts: true,
  sourcemap: true,
  clean: true,
  // tfjs-core ships this file as ESM inside a CommonJS package, which Node
  // cannot load on its own; bundling it (and only it) registers the gradients.
  noExternal: [/register_all_gradients/],
});
