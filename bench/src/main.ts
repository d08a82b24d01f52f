import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { loadMnist } from "@mnist/data/node";
import { SequenceClassifier } from "@mnist/rnn";
import { evaluate, Trainer } from "@mnist/train";
import { workerThreads } from "@mnist/train/node";
import { cliMainScript } from "./cli.js";
import { RowProcess, serveRow } from "./row-process.js";
import { IMPLEMENTATION_NAMES, MODEL, type Implementation } from "./rows.js";
import { summarize, trainingStepFlops } from "./stats.js";

const USAGE = `pnpm bench [--steps 20] [--warmup 3] [--warmup-time 2] [--block 5] [--backends cpu,wasm] [--impls parallel,fast,straightforward,layers] [--full]

Times one training step (forward, backward through time, Adam) of the tutorial's
model (28 steps x 28 inputs, 128 hidden, 10 classes, batch 128) for each
implementation x backend, each row in a process of its own (its peak RSS is the
table's last column), interleaved in rounds so machine drift hits every row
alike: each round, every row runs --block consecutive timed steps, as training
does, after untimed warm-up steps per row at the start: at least --warmup steps
and at least --warmup-time seconds (the 2-thread row's worker thread compiles
its kernels afresh: its first ~15 steps run up to 1.5x slower). Then evaluation
throughput on 1 and 2 threads. --full then times the CLI's whole default run (100000 samples and the
test accuracy) on wasm and reports its wall time, accuracy and peak RSS.`;

interface Row {
  process: RowProcess;
  warmupSteps: number;
  timings: number[];
  peakRssKiB: number;
}

/** --row IMPLEMENTATION/BACKEND, as the parent passes it to a row's process. */
function rowOption(text: string): { implementation: Implementation; backend: string } {
  const [implementation = "", backend = ""] = text.split("/");
  if (!(implementation in IMPLEMENTATION_NAMES) || backend === "") throw new Error(`--row must be IMPLEMENTATION/BACKEND, got "${text}"`);
  return { implementation: implementation as Implementation, backend };
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      steps: { type: "string", default: "20" },
      warmup: { type: "string", default: "3" },
      "warmup-time": { type: "string", default: "2" },
      block: { type: "string", default: "5" },
      backends: { type: "string", default: "cpu,wasm" },
      impls: { type: "string", default: "parallel,fast,straightforward,layers" },
      full: { type: "boolean", default: false },
      // Internal: run one row as a child process of the benchmark (see row-process.ts).
      row: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const positive = (flag: string, text: string) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 0) throw new Error(`--${flag} must be a non-negative integer, got "${text}"`);
    return value;
  };
  const nonNegativeNumber = (flag: string, text: string) => {
    const value = Number(text);
    if (text.trim() === "" || !Number.isFinite(value) || value < 0) throw new Error(`--${flag} must be a non-negative number of seconds, got "${text}"`);
    return value;
  };
  const implementations = values.impls.split(",") as Implementation[];
  for (const name of implementations) {
    if (!(name in IMPLEMENTATION_NAMES)) throw new Error(`--impls: unknown implementation "${name}"`);
  }
  return {
    steps: Math.max(1, positive("steps", values.steps)),
    warmup: positive("warmup", values.warmup),
    warmupSeconds: nonNegativeNumber("warmup-time", values["warmup-time"]),
    block: Math.max(1, positive("block", values.block)),
    backends: values.backends.split(","),
    implementations,
    full: values.full,
    row: values.row === undefined ? undefined : rowOption(values.row),
  };
}

function formatTable(rows: Row[]): string {
  const flops = trainingStepFlops(MODEL.batch, MODEL.steps, MODEL.inputs, MODEL.hidden, MODEL.classes);
  const header = ["implementation", "backend", "median ms/step", "min", "max", "samples/s", "GFLOP/s", "speed-up vs tf.layers.lstm", "peak RSS MB"];
  const lines = [header, header.map(() => "---")];
  for (const row of rows) {
    const stats = summarize(row.timings);
    const { implementation, backend } = row.process;
    const layers = rows.find((other) => other.process.implementation === "layers" && other.process.backend === backend);
    const ratio = layers ? (summarize(layers.timings).median / stats.median).toFixed(1) + "x" : "n/a";
    lines.push([
      IMPLEMENTATION_NAMES[implementation],
      backend,
      stats.median.toFixed(1),
      stats.min.toFixed(1),
      stats.max.toFixed(1),
      ((MODEL.batch * 1000) / stats.median).toFixed(0),
      (flops / (stats.median * 1e6)).toFixed(2),
      ratio,
      (row.peakRssKiB / 1024).toFixed(0),
    ]);
  }
  return lines.map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}

/** Runs the CLI's default training as a user would, polling the child's peak RSS. */
async function timeFullRun(): Promise<void> {
  const cliMain = cliMainScript();
  const logdir = mkdtempSync(join(tmpdir(), "mnist-bench-"));
  const started = performance.now();
  const child = spawn(process.execPath, [cliMain, "train", "--backend", "wasm", "--logdir", logdir], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  let peakKiB = 0;
  const poll = setInterval(() => {
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
      if (match) peakKiB = Math.max(peakKiB, Number(match[1]));
    } catch {
      // The child may exit between two polls; the last reading stands.
    }
  }, 100);
  const code: number = await new Promise((resolve) => child.on("exit", (exitCode) => resolve(exitCode ?? 1)));
  clearInterval(poll);
  const seconds = (performance.now() - started) / 1000;
  rmSync(logdir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`full run: the CLI exited with code ${code}\n${output}`);
  const accuracy = /Testing Accuracy= ([0-9.]+)/.exec(output)?.[1] ?? "not printed";
  console.log(`\nFull run (pnpm --filter cli start train, wasm, 100000 samples + 10000 test images):`);
  console.log(`  wall ${seconds.toFixed(1)} s, Testing Accuracy= ${accuracy}, peak RSS ${(peakKiB / 1024).toFixed(0)} MB`);
}

async function main(): Promise<void> {
  const options = parseOptions();
  if (options.row !== undefined) return serveRow(options.row.implementation, options.row.backend);
  for (const backend of options.backends) {
    const known = Object.keys(tf.engine().registryFactory);
    if (!known.includes(backend)) throw new Error(`--backends: unknown backend "${backend}" (this benchmark has ${known.join(", ")})`);
    if (!(await tf.setBackend(backend))) throw new Error(`--backends: backend "${backend}" failed to initialise`);
  }
  const rows: Row[] = [];
  try {
    const script = fileURLToPath(import.meta.url);
    for (const backend of options.backends) {
      for (const implementation of options.implementations) {
        rows.push({ process: await RowProcess.start(script, implementation, backend), warmupSteps: 0, timings: [], peakRssKiB: 0 });
      }
    }
    for (const row of rows) row.warmupSteps = await row.process.warmUp(options.warmup, options.warmupSeconds);
    // A row's steps run in blocks, as in training: a row timed one step at a time between other
    // rows' seconds-long steps would start every step with cold caches and an idle worker thread.
    const rounds = Math.ceil(options.steps / options.block);
    for (let round = 0; round < rounds; round++) {
      for (const row of rows) row.timings.push(...(await row.process.block(Math.min(options.block, options.steps - row.timings.length))));
      process.stderr.write(`\rround ${round + 1}/${rounds}`);
    }
    process.stderr.write("\n");
    for (const row of rows) row.peakRssKiB = await row.process.finish();
  } catch (error) {
    for (const row of rows) row.process.kill();
    throw error;
  }
  console.log(
    `Training step, batch ${MODEL.batch}, each row in its own process, ${options.steps} timed steps per row after at least ${options.warmup} ` +
      `warm-up steps and ${options.warmupSeconds} s (${rows.map((row) => `${row.process.implementation}/${row.process.backend} ${row.warmupSteps}`).join(", ")} ` +
      `warm-up steps), interleaved in rounds of ${options.block} consecutive steps per row:`,
  );
  console.log(formatTable(rows));
  const { train, test } = await loadMnist();
  for (const backend of options.backends) {
    await tf.setBackend(backend);
    const model = SequenceClassifier.create({ hiddenSize: MODEL.hidden, seed: 1 });
    const single = await evaluate(model, test, { batchSize: 1000 });
    const parallel = new Trainer(model, train, {}, { gradients: workerThreads({ threads: 2 }) });
    const shared = await parallel.evaluate(test, "test", { batchSize: 1000 });
    parallel.dispose();
    model.dispose();
    console.log(
      `evaluation of ${single.count} test images on ${backend}: ${single.imagesPerSecond.toFixed(0)} images/s (1 thread), ` +
        `${shared.imagesPerSecond.toFixed(0)} images/s (2 threads)`,
    );
  }
  if (options.full) await timeFullRun();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
