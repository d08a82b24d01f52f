import { EventEmitter } from "node:events";
import { cp, mkdir, mkdtemp, readFile, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCheckpoint } from "@mnist/train/node";
import { listFiles, runCli, tempDir, writeSmallMnist } from "./cli.test-support.js";
import { run } from "./run.js";

let tmp: { path: string; remove: () => Promise<void> };
let smallData: string;

beforeAll(async () => {
  tmp = await tempDir("resume");
  smallData = await writeSmallMnist(tmp.path, 1280, 100);
});
afterAll(() => tmp.remove());

const tiny = ["--batch-size", "64", "--hidden", "8", "--display-step", "1", "--backend", "cpu"];

/** The schedule and engine the checkpoint in `dir` recorded. */
async function recorded(dir: string): Promise<{ schedule: unknown; engine: unknown; step: number }> {
  const { model, state, schedule, engine } = await readCheckpoint(dir);
  model.dispose();
  state.best?.model.dispose();
  return { schedule, engine, step: state.step };
}

/** Runs the CLI in-process and sends SIGINT once `after` lines starting "Iteration" have been printed. */
async function interrupted(argv: string[], after: number): Promise<{ code: number; stdout: string }> {
  const signals = new EventEmitter();
  let stdout = "";
  let sent = false;
  const code = await run(argv, {
    stdout: {
      write: (text: string) => {
        stdout += text;
        if (!sent && stdout.split("\n").filter((line) => line.startsWith("Iteration")).length >= after) {
          sent = true;
          signals.emit("SIGINT");
        }
        return true;
      },
      isTTY: false,
    },
    stderr: { write: () => true, isTTY: false },
    signals: signals as never,
    exit: () => {
      throw new Error("no second signal is sent");
    },
    invocation: "pnpm --filter cli start",
  });
  return { code, stdout };
}

describe("a resumed run keeps what shapes its safety and output", () => {
  it("keeps --checkpoint-every, --validate-every and --keep-best in the checkpoint, so a resume without them keeps them", async () => {
    const save = join(tmp.path, "kept");
    const logdir = join(tmp.path, "logs-kept");
    const first = await runCli(["train", ...tiny, "--iters", "640", "--checkpoint-every", "2", "--validate-every", "3", "--keep-best", "--data", smallData, "--logdir", logdir, "--save", save]);
    expect(first.code).toBe(0);
    expect(await recorded(save)).toEqual({ schedule: { checkpointEvery: 2, validation: 3, keepBest: true }, engine: { backend: "cpu", threads: 1 }, step: 9 });

    const resumed = await runCli(["train", "--resume", save, "--save", save, "--iters", "1280", "--backend", "cpu", "--data", smallData, "--logdir", logdir, "--json"]);
    expect(resumed.code).toBe(0);
    const events = resumed.stdout.trim().split("\n").map((line) => JSON.parse(line) as { event: string; step?: number });
    // Steps 10..19: validations at 12, 15, 18 and the last step, as --validate-every 3 asked.
    expect(events.filter((e) => e.event === "validation").map((e) => e.step)).toEqual([12, 15, 18, 19]);
    expect(events.some((e) => e.event === "restored")).toBe(true);
    // Same backend and threads: no word about rounding.
    expect(events.some((e) => e.event === "engine")).toBe(false);
    expect((await recorded(save)).schedule).toEqual({ checkpointEvery: 2, validation: 3, keepBest: true });

    // A flag typed at resume replaces the kept value.
    const again = await runCli(["train", "--resume", save, "--save", save, "--iters", "1600", "--checkpoint-every", "5", "--backend", "cpu", "--data", smallData, "--logdir", logdir]);
    expect(again.code).toBe(0);
    expect((await recorded(save)).schedule).toEqual({ checkpointEvery: 5, validation: 3, keepBest: true });
  });

  it("says in one line that a run resumed on another backend matches only up to float rounding", async () => {
    const save = join(tmp.path, "engine");
    const logdir = join(tmp.path, "logs-engine");
    expect((await runCli(["train", ...tiny, "--iters", "320", "--data", smallData, "--logdir", logdir, "--save", save])).code).toBe(0);
    const resumed = await runCli(["train", "--resume", save, "--save", save, "--iters", "640", "--backend", "wasm", "--workers", "1", "--data", smallData, "--logdir", logdir]);
    expect(resumed.code).toBe(0);
    const lines = resumed.stdout.split("\n").filter((line) => line.includes("float rounding"));
    expect(lines).toEqual([
      "Resuming on wasm with 1 thread, the checkpoint was written on cpu with 1 thread: the run continues equal to an uninterrupted one up to float rounding, not bit for bit.",
    ]);
    expect(await recorded(save)).toMatchObject({ engine: { backend: "wasm", threads: 1 } });
  });

  it("prints a resume command as the user started the CLI, with the flags the checkpoint does not keep, that continues the run", async () => {
    const save = join(tmp.path, "printed");
    const logdir = join(tmp.path, "logs-printed");
    const argv = ["train", ...tiny, "--iters", "3905", "--checkpoint-every", "7", "--max-input-mb", "100", "--projector-size", "50", "--data", smallData, "--logdir", logdir, "--run", "r", "--save", save];
    const stopped = await interrupted(argv, 2);
    expect(stopped.code).toBe(130);
    const command = /^\s+(pnpm --filter cli start train --resume .*)$/m.exec(stopped.stdout)?.[1];
    expect(command).toBe(
      `pnpm --filter cli start train --resume ${save} --save ${save} --logdir ${logdir} --run r --backend cpu --data ${smallData} --max-input-mb 100 --projector-size 50`,
    );
    const resumed = await runCli(command!.split(" ").slice(4));
    expect(resumed.code).toBe(0);
    expect((await recorded(save)).schedule).toMatchObject({ checkpointEvery: 7 });
  });
});

describe("a resume that cannot run is refused before anything is written", () => {
  it.each([
    ["a budget the checkpoint has already spent", ["--iters", "320"], /^error: --iters: expected more than 320 samples, so that step 5 runs .*found 320 samples, 4 steps \(4 already done\)/],
    ["another training set", ["--data", "<other>"], /^error: --data: the training split: expected 1280 images, as in the run being resumed, found 1300 images/],
  ])("%s", async (_, flags, message) => {
    const save = join(tmp.path, `refused-${flags[0]}`);
    const logdir = join(tmp.path, `logs-refused-${flags[0]}`);
    expect((await runCli(["train", ...tiny, "--iters", "320", "--data", smallData, "--logdir", logdir, "--save", save])).code).toBe(0);
    const other = await writeSmallMnist(await mkdtemp(join(tmp.path, "other-")), 1300, 100);
    const before = await listFiles(tmp.path);
    // A flag given twice takes its last value, so flags may replace --data.
    const argv = ["train", "--resume", save, "--save", save, "--backend", "cpu", "--data", smallData, "--logdir", join(logdir, "again"), ...flags.map((word) => word.replace("<other>", other))];
    const { code, stderr } = await runCli(argv);
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(message);
    expect(await listFiles(tmp.path)).toEqual(before);
  });
});

describe("--model on a folder a resumed run left", () => {
  let save: string;
  beforeAll(async () => {
    save = join(tmp.path, "both");
    expect((await runCli(["train", ...tiny, "--iters", "640", "--data", smallData, "--logdir", join(tmp.path, "logs-both"), "--save", save])).code).toBe(0);
  });

  it("uses the final model.json when it is the newer, without a word", async () => {
    const { code, stdout } = await runCli(["evaluate", "--model", save, "--data", smallData, "--backend", "cpu"]);
    expect(code).toBe(0);
    expect(stdout).not.toContain("checkpoint");
  });

  it("uses a newer checkpoint and says so in one line, for evaluate, predict and export", async () => {
    const folder = join(tmp.path, "newer");
    await cp(save, folder, { recursive: true });
    // As if a resumed run had checkpointed after this model.json was written.
    const past = new Date(Date.now() - 3600_000);
    await utimes(join(folder, "model.json"), past, past);
    const note = `--model ${folder}: using the checkpoint of step 9, newer than ${join(folder, "model.json")} (a resumed run stopped before its end); train --resume ${folder} continues it`;
    const evaluation = await runCli(["evaluate", "--model", folder, "--data", smallData, "--backend", "cpu"]);
    expect(evaluation.code).toBe(0);
    expect(evaluation.stdout.split("\n").filter((line) => line.includes("newer than"))).toEqual([note]);
    const exported = await runCli(["export", "--model", folder, "--out", join(tmp.path, "exported"), "--backend", "cpu"]);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain(note);
  });

  it("says what is wrong when latest.json names a checkpoint that is gone", async () => {
    const folder = join(tmp.path, "dangling");
    await mkdir(folder);
    await writeFile(join(folder, "latest.json"), JSON.stringify({ folder: "step-000042-gone" }));
    const { code, stderr } = await runCli(["evaluate", "--model", folder, "--data", smallData, "--backend", "cpu"]);
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain(`${join(folder, "latest.json")}: expected the checkpoint folder it names, ${join(folder, "step-000042-gone")}, found no such folder`);
    expect(stderr).not.toContain("neither");
    expect(JSON.parse(await readFile(join(folder, "latest.json"), "utf8"))).toEqual({ folder: "step-000042-gone" });
  });
});
