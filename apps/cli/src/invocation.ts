import { dirname, resolve } from "node:path";
import { shellQuote } from "./shell.js";

/**
 * The command that starts this CLI the way the user started it, for command lines printed to be
 * pasted (the resume command): `pnpm --filter cli start` or `npm --prefix <cli> start --` under a
 * package manager's start script (which set npm_lifecycle_event and npm_config_user_agent), else
 * `node <script>`: the bin name is not on PATH after `pnpm install`.
 */
export function invocation(env: Readonly<Record<string, string | undefined>>, script: string | undefined): string {
  if (env.npm_lifecycle_event === "start") {
    const agent = env.npm_config_user_agent ?? "";
    if (agent.startsWith("pnpm/")) return "pnpm --filter cli start";
    if (agent.startsWith("npm/") && env.npm_package_json !== undefined) return `npm --prefix ${shellQuote(dirname(env.npm_package_json))} start --`;
  }
  return script === undefined ? "mnist-rnn" : `node ${shellQuote(resolve(script))}`;
}
