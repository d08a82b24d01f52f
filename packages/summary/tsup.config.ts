import { defineConfig } from "tsup";

export default defineConfig({
  // "index" is the browser-safe core; "node" adds the file writer (node: imports).
  entry: { index: "src/index.ts", node: "src/node.ts" },
  format: ["esm"],
  dts: true,
  sourcemap: true,
  clean: true,
});
