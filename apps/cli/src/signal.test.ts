import { spawn, spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { splitValidation, type MnistSplit } from "@mnist/data";
import { loadMnist } from "@mnist/data/node";
import { loadModel } from "@mnist/rnn/node";
import { Trainer } from "@mnist/train";
import { readCheckpoint } from "@mnist/train/node";
import { selectBackend } from "./backend.js";
import { maskedCrc32c } from "@mnist/summary";
import { builtCli, countTag, listFiles, runCli, tempDir, writeSmallMnist } from "./cli.test-support.js";
import { resolveModelFolder } from "./folder-flags.js";

let main: string;
let tmp: { path: string; remove: () => Promise<void> };
let smallData: string;

beforeAll(async () => {
  main = builtCli();
  await selectBackend("cpu");
  tmp = await tempDir("signal");
  smallData = await writeSmallMnist(tmp.path, 1280, 200);
}, 180_000);
afterAll(() => tmp?.remove());

/** A trainer continuing the run checkpointed in `dir`, as train --resume makes it. */
async function resumeTrainer(dir: string, train: MnistSplit): Promise<Trainer> {
  const { model, config, state } = await readCheckpoint(dir);
  return new Trainer(model, train, config, { restored: state });
}

/** Starts the built CLI, sends `signal` after its first log line, resolves with exit code and output. */
function interruptAfterFirstLog(args: string[], signal: NodeJS.Signals): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, ...args], { cwd: tmp.path, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let sent = false;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      if (!sent && /^Iteration /m.test(stdout)) {
        sent = true;
        child.kill(signal);
      }
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe.each([
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const)("%s during train", (signal, expectedCode) => {
  it(`stops after the step, saves a checkpoint, prints the resume command and exits ${expectedCode}`, async () => {
    const save = join(tmp.path, `checkpoint-${signal}`);
    const logdir = join(tmp.path, `logs-${signal}`);
    // 60 steps of 64 images: long enough that the signal lands mid-run.
    const args = ["train", "--iters", "3905", "--batch-size", "64", "--hidden", "8", "--display-step", "1", "--backend", "cpu"];
    const result = await interruptAfterFirstLog([...args, "--data", smallData, "--logdir", logdir, "--run", "r", "--save", save], signal);
    expect(result.code).toBe(expectedCode);
    expect(result.stdout).not.toContain("Optimization Finished!");
    expect(result.stdout).toContain(`Interrupted by ${signal}`);

    // Started as `node dist/main.js`, the CLI prints a command that starts it the same way.
    const command = /^\s+(node \S+ train --resume .*)$/m.exec(result.stdout)?.[1];
    expect(command).toBe(`node ${main} train --resume ${save} --save ${save} --logdir ${logdir} --run r --backend cpu --data ${smallData}`);

    // The checkpoint holds a loadable model and a trainer part-way through.
    const model = await loadModel((await resolveModelFolder("--model", save)).folder);
    expect(model.config.hiddenSize).toBe(8);
    model.dispose();
    const { train } = splitValidation((await loadMnist(smallData)).train, 5000);
    const trainer = await resumeTrainer(save, train);
    const stoppedAt = trainer.completedSteps;
    expect(stoppedAt).toBeGreaterThanOrEqual(1);
    expect(stoppedAt).toBeLessThan(trainer.totalSteps);
    trainer.dispose();
    trainer.model.dispose();

    // The event file was flushed and closed: it holds the graph and hyper-parameters written at the
    // start, and no HParams end status, which the resumed run writes when it finishes.
    const [eventFile] = await listFiles(join(logdir, "r"));
    const events = await readFile(join(logdir, "r", eventFile!));
    expect(countTag(events, "hyperparameters")).toBe(1);
    expect(readRecords(events).filter(isGraphEvent)).toHaveLength(1);
    expect(countTag(events, "_hparams_/session_start_info")).toBe(1);
    expect(countTag(events, "_hparams_/session_end_info")).toBe(0);

    // The printed command continues from the checkpoint to the end.
    const resumed = await runCli(command!.split(" ").slice(2));
    expect(resumed.code).toBe(0);
    const firstSamples = Number(/^Iteration (\d+),/m.exec(resumed.stdout)?.[1]);
    expect(firstSamples).toBe((stoppedAt + 1) * 64);
    expect(resumed.stdout).toContain("Optimization Finished!");
    expect(resumed.stdout).toMatch(/^Testing Accuracy= /m);
  });
});

/** Splits a TFRecord file into its records, checking both masked CRCs of each; throws on a torn record. */
function readRecords(file: Uint8Array): Uint8Array[] {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const records: Uint8Array[] = [];
  let at = 0;
  while (at < file.length) {
    if (at + 12 > file.length) throw new Error(`torn record header at byte ${at}`);
    const length = Number(view.getBigUint64(at, true));
    if (view.getUint32(at + 8, true) !== maskedCrc32c(file.subarray(at, at + 8))) throw new Error(`bad length CRC at byte ${at}`);
    const end = at + 12 + length + 4;
    if (end > file.length) throw new Error(`torn record data at byte ${at}`);
    const data = file.subarray(at + 12, at + 12 + length);
    if (view.getUint32(at + 12 + length, true) !== maskedCrc32c(data)) throw new Error(`bad data CRC at byte ${at}`);
    records.push(data);
    at = end;
  }
  return records;
}

/** An Event{wall_time (field 1, 8 bytes), graph_def (field 4)}: the record SummaryWriter.graph() writes. */
function isGraphEvent(record: Uint8Array): boolean {
  return record[0] === 0x09 && record[9] === 0x22;
}

describe("kill -9 during train", () => {
  it("leaves the last complete checkpoint resumable and the event file whole up to its last flush", async () => {
    const save = join(tmp.path, "checkpoint-SIGKILL");
    const logdir = join(tmp.path, "logs-SIGKILL");
    // A checkpoint every step, so the kill is likely to land while one is being written.
    const args = ["train", "--iters", "3905", "--batch-size", "64", "--hidden", "8", "--display-step", "1", "--checkpoint-every", "1"];
    const child = spawn(process.execPath, [main, ...args, "--backend", "cpu", "--data", smallData, "--logdir", logdir, "--run", "r", "--save", save], {
      cwd: tmp.path,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let lines = 0;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      lines += chunk.split("\n").filter((line) => line.startsWith("Iteration ")).length;
      if (lines >= 4) child.kill("SIGKILL");
    });
    const signal = await new Promise((resolve) => child.on("close", (_code, killedBy) => resolve(killedBy)));
    expect(signal).toBe("SIGKILL");

    const { train } = splitValidation((await loadMnist(smallData)).train, 5000);
    const trainer = await resumeTrainer(save, train);
    expect(trainer.completedSteps).toBeGreaterThanOrEqual(3);
    expect(trainer.completedSteps).toBeLessThan(trainer.totalSteps);
    trainer.dispose();
    trainer.model.dispose();

    const [eventFile] = await listFiles(join(logdir, "r"));
    const records = readRecords(await readFile(join(logdir, "r", eventFile!)));
    expect(Buffer.from(records[0]!).includes(Buffer.from("brain.Event:2"))).toBe(true);
    // The graph and the HParams row are flushed before the first step, so a killed run has them.
    expect(records.filter(isGraphEvent)).toHaveLength(1);
    expect(records.some((record) => countTag(record, "_hparams_/session_start_info") === 1)).toBe(true);
  });
});

describe("a full disk under --logdir", () => {
  // Under a file-size limit every write past it fails with EFBIG, as writes to a full disk fail with ENOSPC.
  it.each([0, 2])("with room for %i KB of event file: one error line naming --logdir and the file, exit 1", async (kilobytes) => {
    const logdir = join(tmp.path, `logs-full-${kilobytes}`);
    const args = ["train", "--iters", "640", "--batch-size", "64", "--hidden", "8", "--backend", "cpu", "--data", smallData, "--logdir", logdir, "--run", "r"];
    const child = spawnSync("bash", ["-c", `ulimit -f ${kilobytes}; exec "$0" "$@"`, process.execPath, main, ...args], { cwd: tmp.path, encoding: "utf8" });
    expect(child.status).toBe(1);
    const lines = child.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^error: --logdir: could not write the TensorBoard event file: ${join(logdir, "r")}/events\\.out\\.tfevents\\.[^:]+: EFBIG: file too large, write\\. Hint: free space`));
  });
});
