import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/node.ts"],
  format: ["esm"],
  dts: true,
  sourcemap: true,
  clean: true,
  // tfjs-core ships this file as ESM inside a CommonJS package, which Node
  // cannot load on its own; bundling it (and only it) registers the gradients.
  noExternal: [/register_all_gradients/],
});
