import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { cliMainScript } from "./cli.js";

const USAGE = `pnpm bench:accuracy [--epochs 20] [--rows 1,2,3,...] [--seed 0] [--try "<train flags>"] [--final]

The accuracy ablation: trains the tutorial's model (rows, one LSTM layer of 128)
through the CLI once per row, each row adding one change to the row before, and
prints validation accuracy (the 5000 held-out training images: what the choices
were made on), test accuracy (reported once per row, never used to choose) and
training time. --try runs one extra configuration given as train flags (e.g.
"--preset best --dropout 0.2"); --final runs \`train --preset best\` once, as a user
would.
Rows run one after another (each is a whole training run): about 26 s per epoch
per row on 2 cores.`;

/** One row of the ablation: what it adds and the flags that add it. */
interface Change {
  name: string;
  flags: string[];
}

// Cumulative: row n runs with the flags of rows 1..n.
const CHANGES: Change[] = [
  { name: "tutorial settings: Adam 0.001, constant", flags: [] },
  { name: "+ learning rate 0.002", flags: ["--lr", "0.002"] },
  { name: "+ 200 warm-up steps, cosine decay to 0", flags: ["--warmup-steps", "200", "--decay", "cosine"] },
  { name: "+ gradient clipping at global norm 5", flags: ["--clip-norm", "5"] },
  { name: "+ best-validation weights kept", flags: ["--keep-best"] },
  { name: "+ random shifts of up to 2 pixels", flags: ["--max-shift", "2"] },
  { name: "+ orthogonal recurrent weights (= --preset best)", flags: ["--recurrent-init", "orthogonal"] },
];

interface Outcome {
  /** Validation accuracy after each validation, in order. */
  validation: number[];
  /** Validation accuracy of the weights tested (the best one with --keep-best, else the last). */
  testedValidation: number;
  test: number;
  trainingSeconds: number;
  wallSeconds: number;
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      epochs: { type: "string", default: "20" },
      rows: { type: "string", default: CHANGES.map((_, k) => k + 1).join(",") },
      seed: { type: "string", default: "0" },
      final: { type: "boolean", default: false },
      try: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const epochs = Number(values.epochs);
  if (!(epochs > 0)) throw new Error(`--epochs must be a positive number, got "${values.epochs}"`);
  const rows = values.rows.split(",").map((text) => {
    const row = Number(text);
    if (!Number.isInteger(row) || row < 1 || row > CHANGES.length) throw new Error(`--rows: no row "${text}" (1..${CHANGES.length})`);
    return row;
  });
  if (!Number.isInteger(Number(values.seed))) throw new Error(`--seed must be an integer, got "${values.seed}"`);
  return { epochs: values.epochs, rows, seed: values.seed, final: values.final, extra: values.try };
}

/** One CLI training run with --json; its validation and test events. */
async function train(flags: string[]): Promise<Outcome> {
  const cliMain = cliMainScript();
  const logdir = mkdtempSync(join(tmpdir(), "mnist-accuracy-"));
  const started = performance.now();
  // Every row validates each epoch: that is the measurement, not one of the changes.
  const args = [cliMain, "train", "--backend", "wasm", "--json", "--logdir", logdir, "--validate-every", "epoch", ...flags];
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const outcome: Outcome = { validation: [], testedValidation: Number.NaN, test: Number.NaN, trainingSeconds: Number.NaN, wallSeconds: 0 };
  let pending = "";
  child.stdout.on("data", (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      const event = JSON.parse(line) as Record<string, unknown>;
      if (event.event === "validation") {
        outcome.validation.push(event.accuracy as number);
        process.stderr.write(`  epoch ${String(event.epoch)}: validation ${(event.accuracy as number).toFixed(5)}\n`);
      }
      if (event.event === "restored") outcome.testedValidation = event.accuracy as number;
      if (event.event === "finished") outcome.trainingSeconds = event.seconds as number;
      if (event.event === "test") outcome.test = event.accuracy as number;
    }
  });
  const code: number = await new Promise((resolve) => child.on("exit", (exitCode) => resolve(exitCode ?? 1)));
  rmSync(logdir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`the CLI exited with code ${code} (flags: ${flags.join(" ")})`);
  outcome.wallSeconds = (performance.now() - started) / 1000;
  if (Number.isNaN(outcome.testedValidation)) outcome.testedValidation = outcome.validation.at(-1) ?? Number.NaN;
  return outcome;
}

const minutes = (seconds: number) => `${Math.floor(seconds / 60)}:${String(Math.round(seconds % 60)).padStart(2, "0")}`;

async function main(): Promise<void> {
  const options = parseOptions();
  const header = ["change", "validation (tested weights)", "best validation", "test", "training time", "wall"];
  const table = [header, header.map(() => "---")];
  const record = (name: string, outcome: Outcome) => {
    table.push([
      name,
      outcome.testedValidation.toFixed(5),
      Math.max(...outcome.validation).toFixed(5),
      outcome.test.toFixed(5),
      minutes(outcome.trainingSeconds),
      minutes(outcome.wallSeconds),
    ]);
  };
  if (options.final) {
    process.stderr.write("train --preset best\n");
    record("train --preset best", await train(["--preset", "best", "--seed", options.seed]));
  } else if (options.extra !== undefined) {
    process.stderr.write(`train ${options.extra}\n`);
    record(options.extra, await train([...options.extra.split(/\s+/).filter(Boolean), "--seed", options.seed]));
  } else {
    for (const row of options.rows) {
      const flags = CHANGES.slice(0, row).flatMap((change) => change.flags);
      process.stderr.write(`row ${row}: ${flags.join(" ") || "(defaults)"}\n`);
      record(CHANGES[row - 1]!.name, await train([...flags, "--epochs", options.epochs, "--seed", options.seed]));
    }
  }
  if (options.final === false && options.extra === undefined) {
    console.log(`Ablation, ${options.epochs} epochs per row, seed ${options.seed}, wasm, 2 threads:`);
  }
  console.log(table.map((cells) => `| ${cells.join(" | ")} |`).join("\n"));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
