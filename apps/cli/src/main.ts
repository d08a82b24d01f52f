#!/usr/bin/env node
// tfjs-core's Node build registers no gradients; training needs them.
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import { enableProdMode } from "@tensorflow/tfjs-core";
import { run } from "./run.js";

// The CLI says which backend it picked and why; tfjs's own "install tfjs-node" banner would
// contradict that after a deliberate fallback. Production mode only silences such logs.
enableProdMode();

// Under `pnpm --filter cli start` that is what the user typed, so the printed resume command says so.
const invocation = process.env.npm_lifecycle_event === "start" ? "pnpm --filter cli start" : "mnist-rnn";

process.exitCode = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, invocation });
