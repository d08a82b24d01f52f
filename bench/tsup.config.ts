import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/main.ts", "src/accuracy.ts"],
  format: ["esm"],
  dts: false,
  sourcemap: true,
  clean: true,
  // tfjs-core ships these files as ESM inside a CommonJS package, which Node
  // cannot load on its own; bundling them (and only them) registers the
  // gradients and the chained tensor methods tfjs-layers needs.
  noExternal: [/register_all_gradients/, /register_all_chained_ops/],
});
