import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { defaultMnistDir, loadMnist } from "@mnist/data/node";
import { SequenceClassifier } from "@mnist/rnn";
import { evaluate, Trainer } from "@mnist/train";
import { workerThreads } from "@mnist/train/node";
import { cliMainScript } from "./cli.js";
import { findPyTorch, PYTORCH_HINT, startPyTorch } from "./pytorch.js";
import { RowProcess, serveRow } from "./row-process.js";
import { IMPLEMENTATION_NAMES, MODEL, type Implementation, type RowKind } from "./rows.js";
import { summarize, trainingStepFlops } from "./stats.js";

const USAGE = `pnpm bench [--steps 20] [--warmup 3] [--warmup-time 2] [--block 5] [--backends cpu,wasm] [--impls parallel,fast,straightforward,layers,pytorch] [--full] [--full-runs 2]

Times one training step (forward, backward through time, Adam) of the tutorial's
model (28 steps x 28 inputs, 128 hidden, 10 classes, batch 128) for each
implementation x backend, each row in a process of its own (its peak RSS is the
table's last column), interleaved in rounds so machine drift hits every row
alike: each round, every row runs --block consecutive timed steps, as training
does, after untimed warm-up steps per row at the start: at least --warmup steps
and at least --warmup-time seconds (the 2-thread row's worker thread compiles
its kernels afresh: its first ~15 steps run up to 1.5x slower). Then evaluation
throughput on 1 and 2 threads. The pytorch row is the same model in PyTorch
(bench/pytorch/tutorial_lstm.py, one BLAS thread), when a python3 with torch is
found (${PYTORCH_HINT}); it runs once, whatever --backends says. --full then
times the whole tutorial run as whole processes, the CLI's (wasm) and PyTorch's
in turn, --full-runs times each: wall time, test accuracy, evaluation speed and
peak RSS, and the ratio of each pair; before them, the sequential-MNIST step
(784 steps of one pixel, 2 threads).`;

interface Row {
  implementation: Implementation;
  process: RowProcess;
  warmupSteps: number;
  timings: number[];
  peakRssKiB: number;
}

/** --row IMPLEMENTATION/BACKEND, as the parent passes it to a row's process. */
function rowOption(text: string): { implementation: RowKind; backend: string } {
  const [implementation = "", backend = ""] = text.split("/");
  const known = implementation === "pixels" || (implementation in IMPLEMENTATION_NAMES && implementation !== "pytorch");
  if (!known || backend === "") throw new Error(`--row must be IMPLEMENTATION/BACKEND, got "${text}"`);
  return { implementation: implementation as RowKind, backend };
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      steps: { type: "string", default: "20" },
      warmup: { type: "string", default: "3" },
      "warmup-time": { type: "string", default: "2" },
      block: { type: "string", default: "5" },
      backends: { type: "string", default: "cpu,wasm" },
      impls: { type: "string", default: "parallel,fast,straightforward,layers,pytorch" },
      full: { type: "boolean", default: false },
      "full-runs": { type: "string", default: "2" },
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
    fullRuns: Math.max(1, positive("full-runs", values["full-runs"])),
    row: values.row === undefined ? undefined : rowOption(values.row),
  };
}

function formatTable(rows: Row[]): string {
  const flops = trainingStepFlops(MODEL.batch, MODEL.steps, MODEL.inputs, MODEL.hidden, MODEL.classes);
  const header = ["implementation", "backend", "median ms/step", "min", "max", "samples/s", "GFLOP/s", "speed-up vs tf.layers.lstm", "peak RSS MB"];
  const lines = [header, header.map(() => "---")];
  for (const row of rows) {
    const stats = summarize(row.timings);
    const { implementation } = row;
    const { backend } = row.process;
    const layers = rows.find((other) => other.implementation === "layers" && other.process.backend === backend);
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

interface ProcessRun {
  seconds: number;
  output: string;
  peakKiB: number;
}

/** Runs a whole process as a user would, polling its peak RSS; a non-zero exit throws with its output. */
async function timeProcess(what: string, start: () => ChildProcess): Promise<ProcessRun> {
  const started = performance.now();
  const child = start();
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
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
  if (code !== 0) throw new Error(`${what} exited with code ${code}\n${output}`);
  return { seconds: (performance.now() - started) / 1000, output, peakKiB };
}

/** The CLI's default training (the tutorial's run on wasm), as `pnpm --filter cli start train` runs it. */
async function cliTutorialRun(): Promise<ProcessRun> {
  const logdir = mkdtempSync(join(tmpdir(), "mnist-bench-"));
  try {
    return await timeProcess("the CLI's tutorial run", () =>
      spawn(process.execPath, [cliMainScript(), "train", "--backend", "wasm", "--logdir", logdir], { stdio: ["ignore", "pipe", "pipe"] }),
    );
  } finally {
    rmSync(logdir, { recursive: true, force: true });
  }
}

function describeRun(run: ProcessRun): string {
  const accuracy = /Testing Accuracy= ([0-9.]+)/.exec(run.output)?.[1] ?? "not printed";
  return `wall ${run.seconds.toFixed(1)} s, Testing Accuracy= ${accuracy}, peak RSS ${(run.peakKiB / 1024).toFixed(0)} MB`;
}

/** Sequential MNIST's training step (784 steps of one pixel, batch 128, wasm, 2 threads), in a row process of its own. */
async function timeSequentialMnistStep(script: string): Promise<void> {
  const row = await RowProcess.start(script, "pixels", "wasm");
  try {
    const warmupSteps = await row.warmUp(2, 0);
    const timings = await row.block(5);
    const peakKiB = await row.finish();
    const stats = summarize(timings);
    console.log(
      `\nSequential MNIST step (--sequence pixels: 784 steps of 1 pixel, batch 128, wasm, 2 threads; ${timings.length} steps after ${warmupSteps} warm-up): ` +
        `median ${(stats.median / 1000).toFixed(2)} s (min ${(stats.min / 1000).toFixed(2)}, max ${(stats.max / 1000).toFixed(2)}), peak RSS ${(peakKiB / 1024).toFixed(0)} MB`,
    );
  } catch (error) {
    row.kill();
    throw error;
  }
}

/**
 * The whole tutorial run (781 steps, then the 10000 test images), ours and PyTorch's in turn,
 * `runs` times each, so machine drift hits both alike; the ratio of each pair is PyTorch's wall
 * time over ours (above 1: ours is faster).
 */
async function timeFullRuns(runs: number): Promise<void> {
  const torch = findPyTorch();
  console.log(`\nFull run (the tutorial's: 100000 samples, then 10000 test images; whole processes, start-up included):`);
  if (torch === undefined) console.log(`  PyTorch: skipped, no python3 with torch found (${PYTORCH_HINT})`);
  const ratios: number[] = [];
  for (let run = 1; run <= runs; run++) {
    const ours = await cliTutorialRun();
    console.log(`  ${run}. mnist-rnn train (wasm, 2 threads): ${describeRun(ours)}`);
    if (torch === undefined) continue;
    const theirs = await timeProcess("the PyTorch tutorial run", () => startPyTorch(torch.python, "run", defaultMnistDir() ?? ""));
    const evaluation = /Evaluation: (\d+) images\/s/.exec(theirs.output)?.[1] ?? "?";
    console.log(`  ${run}. PyTorch ${torch.version} (OpenBLAS, 1 thread): ${describeRun(theirs)}, test evaluation ${evaluation} images/s`);
    ratios.push(theirs.seconds / ours.seconds);
  }
  if (ratios.length > 0) {
    console.log(`  PyTorch's wall time over ours, pair by pair: ${ratios.map((r) => `${r.toFixed(2)}x`).join(", ")} (median ${summarize(ratios).median.toFixed(2)}x)`);
  }
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
        if (implementation === "pytorch") continue;
        rows.push({ implementation, process: await RowProcess.start(script, implementation, backend), warmupSteps: 0, timings: [], peakRssKiB: 0 });
      }
    }
    if (options.implementations.includes("pytorch")) {
      const torch = findPyTorch();
      if (torch === undefined) console.log(`PyTorch row skipped: no python3 with torch found (${PYTORCH_HINT})`);
      else rows.push({ implementation: "pytorch", process: await RowProcess.startPyTorch(torch.python, defaultMnistDir() ?? ""), warmupSteps: 0, timings: [], peakRssKiB: 0 });
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
  const pytorch = rows.find((row) => row.implementation === "pytorch");
  for (const row of rows.filter((r) => r.implementation === "parallel" || r.implementation === "fast")) {
    if (pytorch === undefined) break;
    const ratio = summarize(pytorch.timings).median / summarize(row.timings).median;
    console.log(`${IMPLEMENTATION_NAMES[row.implementation]} on ${row.process.backend}: ${ratio.toFixed(2)}x PyTorch's step (${IMPLEMENTATION_NAMES.pytorch})`);
  }
  const { train, test } = await loadMnist();
  for (const backend of options.backends) {
    await tf.setBackend(backend);
    const model = SequenceClassifier.create({ hiddenSize: MODEL.hidden, seed: 1 });
    // Each timed pass follows an untimed one, as the test pass follows training: compiled kernels, started threads.
    await evaluate(model, test, { batchSize: 1000 });
    const single = await evaluate(model, test, { batchSize: 1000 });
    const parallel = new Trainer(model, train, {}, { gradients: workerThreads({ threads: 2 }) });
    await parallel.evaluate(test, "test", { batchSize: 1000 });
    const shared = await parallel.evaluate(test, "test", { batchSize: 1000 });
    parallel.dispose();
    model.dispose();
    console.log(
      `evaluation of ${single.count} test images on ${backend}: ${single.imagesPerSecond.toFixed(0)} images/s (1 thread), ` +
        `${shared.imagesPerSecond.toFixed(0)} images/s (2 threads)`,
    );
  }
  if (options.full) {
    await timeSequentialMnistStep(fileURLToPath(import.meta.url));
    await timeFullRuns(options.fullRuns);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
