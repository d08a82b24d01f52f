import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { Batcher, type Batch } from "@mnist/data";
import { loadMnist } from "@mnist/data/node";
import { SequenceClassifier } from "@mnist/rnn";
import { Trainer, evaluate } from "@mnist/train";
import { ParallelTrainer } from "@mnist/train/node";
import { cliMainScript } from "./cli.js";
import { LayersLstm } from "./layers.js";
import { StraightforwardLstm } from "./straightforward.js";
import { summarize, trainingStepFlops } from "./stats.js";

const USAGE = `pnpm bench [--steps 20] [--warmup 3] [--warmup-time 2] [--block 5] [--backends cpu,wasm] [--impls parallel,fast,straightforward,layers] [--full]

Times one training step (forward, backward through time, Adam) of the tutorial's
model (28 steps x 28 inputs, 128 hidden, 10 classes, batch 128) for each
implementation x backend, interleaved in rounds so machine drift hits every
row alike: each round, every row runs --block consecutive timed steps, as
training does, after untimed warm-up steps per row at the start: at least --warmup
steps and at least --warmup-time seconds (the 2-thread row's worker thread
compiles its kernels afresh: its first ~15 steps run up to 1.5x slower). --full then times the CLI's whole default run (100000 samples and the
test accuracy) on wasm and reports its wall time, accuracy and peak RSS.`;

// Trainers to dispose at the end: a ParallelTrainer's worker threads must stop.
const trainers: Trainer[] = [];

const MODEL = { steps: 28, inputs: 28, hidden: 128, classes: 10, batch: 128, learningRate: 0.001 };

type Implementation = "parallel" | "fast" | "straightforward" | "layers";
const IMPLEMENTATION_NAMES: Record<Implementation, string> = {
  parallel: "fused LSTM, 2 threads (ParallelTrainer)",
  fast: "fused LSTM, 1 thread (Trainer)",
  straightforward: "per-step concat+matMul",
  layers: "tf.layers.lstm",
};

interface Row {
  implementation: Implementation;
  backend: string;
  step: () => Promise<void>;
  warmupSteps: number;
  timings: number[];
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
  };
}

function batchTensors(batch: Batch): { images: tf.Tensor3D; oneHot: tf.Tensor2D } {
  return {
    images: tf.tensor3d(batch.images, [batch.size, MODEL.steps, MODEL.inputs]),
    oneHot: tf.tensor2d(batch.oneHot, [batch.size, MODEL.classes]),
  };
}

async function createRow(implementation: Implementation, backend: string, train: Parameters<typeof Batcher.restore>[0]): Promise<Row> {
  const row = (step: () => Promise<void>): Row => ({ implementation, backend, step, warmupSteps: 0, timings: [] });
  if (implementation === "fast" || implementation === "parallel") {
    const model = SequenceClassifier.create({ hiddenSize: MODEL.hidden, seed: 1 });
    const config = { batchSize: MODEL.batch, learningRate: MODEL.learningRate, seed: 1 };
    const trainer =
      implementation === "parallel" ? new ParallelTrainer(model, train, config, {}, { workers: 2 }) : new Trainer(model, train, config);
    trainers.push(trainer);
    return row(async () => {
      await trainer.step();
    });
  }
  const batcher = new Batcher(train, { seed: 1 });
  const baseline =
    implementation === "layers"
      ? LayersLstm.create(MODEL.steps, MODEL.inputs, MODEL.hidden, MODEL.classes, MODEL.learningRate)
      : StraightforwardLstm.create(MODEL.inputs, MODEL.hidden, MODEL.classes, MODEL.learningRate);
  return row(async () => {
    const { images, oneHot } = batchTensors(batcher.nextBatch(MODEL.batch));
    await baseline.trainStep(images, oneHot);
    images.dispose();
    oneHot.dispose();
  });
}

function formatTable(rows: Row[]): string {
  const flops = trainingStepFlops(MODEL.batch, MODEL.steps, MODEL.inputs, MODEL.hidden, MODEL.classes);
  const header = ["implementation", "backend", "median ms/step", "min", "max", "samples/s", "GFLOP/s", "speed-up vs tf.layers.lstm"];
  const lines = [header, header.map(() => "---")];
  for (const row of rows) {
    const stats = summarize(row.timings);
    const layers = rows.find((other) => other.implementation === "layers" && other.backend === row.backend);
    const ratio = layers ? (summarize(layers.timings).median / stats.median).toFixed(1) + "x" : "n/a";
    lines.push([
      IMPLEMENTATION_NAMES[row.implementation],
      row.backend,
      stats.median.toFixed(1),
      stats.min.toFixed(1),
      stats.max.toFixed(1),
      ((MODEL.batch * 1000) / stats.median).toFixed(0),
      (flops / (stats.median * 1e6)).toFixed(2),
      ratio,
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
  const { train, test } = await loadMnist();
  const rows: Row[] = [];
  for (const backend of options.backends) {
    if (!(await tf.setBackend(backend))) throw new Error(`--backends: backend "${backend}" failed to initialise`);
    for (const implementation of options.implementations) rows.push(await createRow(implementation, backend, train));
  }
  for (const row of rows) {
    await tf.setBackend(row.backend);
    const started = performance.now();
    while (row.warmupSteps < options.warmup || performance.now() - started < options.warmupSeconds * 1000) {
      await row.step();
      row.warmupSteps++;
    }
  }
  // A row's steps run in blocks, as in training: a row timed one step at a time between other
  // rows' seconds-long steps would start every step with cold caches and an idle worker thread.
  const rounds = Math.ceil(options.steps / options.block);
  for (let round = 0; round < rounds; round++) {
    for (const row of rows) {
      await tf.setBackend(row.backend);
      const block = Math.min(options.block, options.steps - row.timings.length);
      for (let step = 0; step < block; step++) {
        const started = performance.now();
        await row.step();
        row.timings.push(performance.now() - started);
      }
    }
    process.stderr.write(`\rround ${round + 1}/${rounds}`);
  }
  process.stderr.write("\n");
  console.log(
    `Training step, batch ${MODEL.batch}, ${options.steps} timed steps per row after at least ${options.warmup} warm-up steps and ` +
      `${options.warmupSeconds} s (${rows.map((row) => `${row.implementation}/${row.backend} ${row.warmupSteps}`).join(", ")} warm-up steps), ` +
      `interleaved in rounds of ${options.block} consecutive steps per row:`,
  );
  console.log(formatTable(rows));
  for (const backend of options.backends) {
    await tf.setBackend(backend);
    const model = SequenceClassifier.create({ hiddenSize: MODEL.hidden, seed: 1 });
    const single = await evaluate(model, test, { batchSize: 1000 });
    const parallel = new ParallelTrainer(model, train, {}, {}, { workers: 2 });
    const shared = await parallel.evaluate(test, "test", { batchSize: 1000 });
    parallel.dispose();
    model.dispose();
    console.log(
      `evaluation of ${single.count} test images on ${backend}: ${single.imagesPerSecond.toFixed(0)} images/s (1 thread), ` +
        `${shared.imagesPerSecond.toFixed(0)} images/s (2 threads)`,
    );
  }
  for (const trainer of trainers) trainer.dispose();
  console.log(`peak RSS of this benchmark process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  if (options.full) await timeFullRun();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
