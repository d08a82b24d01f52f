#!/usr/bin/env node
// tfjs-core's Node build registers no gradients; training needs them.
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import { enableProdMode } from "@tensorflow/tfjs-core";
import { holdConsoleOutput } from "@mnist/train/node";
import { invocation } from "./invocation.js";
import { run } from "./run.js";

// The CLI says which backend it picked and why; tfjs's own "install tfjs-node" banner would
// contradict that after a deliberate fallback. Production mode only silences such logs.
enableProdMode();

// Before any backend starts: the wasm engine binds console.warn when it does.
const engineOutput = holdConsoleOutput(console, (text) => process.stderr.write(text));

process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  invocation: invocation(process.env, process.argv[1]),
  engineOutput,
});
engineOutput.release();
