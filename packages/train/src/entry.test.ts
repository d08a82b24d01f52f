import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/** The part of esbuild's API used here; esbuild comes with tsup, this package's bundler, and its types are not reachable from here. */
interface Esbuild {
  build(options: {
    entryPoints: string[];
    bundle: true;
    write: false;
    platform: "browser";
    format: "esm";
    conditions: string[];
    logLevel: "silent";
    plugins: {
      name: string;
      setup(build: {
        onResolve(options: { filter: RegExp }, callback: (args: { path: string; importer: string }) => { path: string; external: boolean }): void;
      }): void;
    }[];
  }): Promise<unknown>;
}

const esbuild = createRequire(createRequire(import.meta.url).resolve("tsup"))("esbuild") as Esbuild;
const sourceDir = fileURLToPath(new URL(".", import.meta.url));

/** Every `node:` import (static or dynamic) in the import graph of `entry` bundled for a browser, with the module that makes it. */
async function nodeImports(entry: string): Promise<{ module: string; importer: string }[]> {
  const found: { module: string; importer: string }[] = [];
  await esbuild.build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    write: false,
    platform: "browser",
    format: "esm",
    conditions: ["source"],
    logLevel: "silent",
    plugins: [
      {
        name: "record-node-imports",
        setup(build) {
          build.onResolve({ filter: /^node:/ }, (args) => {
            found.push({ module: args.path, importer: args.importer });
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  return found;
}

describe("entries", () => {
  it("the main entry bundles for a browser, and none of this package's modules it reaches imports node:", async () => {
    const imports = await nodeImports("./index.ts");
    expect(imports.filter(({ importer }) => importer.startsWith(sourceDir))).toEqual([]);
  });

  it("the check sees node: imports: the /node entry has them", async () => {
    const imports = await nodeImports("./node.ts");
    expect(imports.filter(({ importer }) => importer.startsWith(sourceDir)).map(({ module }) => module)).toEqual(
      expect.arrayContaining(["node:fs/promises", "node:worker_threads"]),
    );
  });
});
