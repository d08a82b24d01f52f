import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** The built CLI's entry script (the workspace's `cli` package), run as a user would run it. */
export function cliMainScript(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("cli/package.json")), "dist", "main.js");
}
