import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { encode } from "fast-png";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { permutePixels, pixelPermutation, preprocessDigit } from "@mnist/data";
import { loadMnist, readPngFile } from "@mnist/data/node";
import { loadModel } from "@mnist/rnn/node";
import { countTag, listFiles, runCli, tempDir, writeSmallMnist } from "./cli.test-support.js";

let tmp: { path: string; remove: () => Promise<void> };
let smallData: string;

beforeAll(async () => {
  tmp = await tempDir("modes");
  smallData = await writeSmallMnist(tmp.path, 1280, 300);
});
afterAll(() => tmp.remove());

type Event = { event: string; [key: string]: unknown };
const events = (stdout: string): Event[] => stdout.trim().split("\n").map((line) => JSON.parse(line) as Event);
const find = (all: Event[], name: string): Event => {
  const found = all.find((e) => e.event === name);
  if (found === undefined) throw new Error(`no "${name}" event in ${all.map((e) => e.event).join(", ")}`);
  return found;
};

describe("sequence modes", () => {
  it("trains on permuted pixel sequences, and evaluate and predict read images the same way", async () => {
    const save = join(tmp.path, "permuted");
    const args = ["--sequence", "pixels", "--permute", "7", "--hidden", "8", "--iters", "161", "--batch-size", "32", "--display-step", "5"];
    const train = await runCli(["train", ...args, "--backend", "cpu", "--data", smallData, "--logdir", join(tmp.path, "logs"), "--save", save, "--json"]);
    expect(train.stderr).toBe("");
    expect(train.code).toBe(0);
    const trained = events(train.stdout);
    expect(find(trained, "start")).toMatchObject({ model: { steps: 784, inputSize: 1, hiddenSize: 8 }, input: { order: "pixels", permute: 7 } });
    const modelJson = JSON.parse(await readFile(join(save, "model.json"), "utf8")) as Record<string, unknown>;
    expect(modelJson.userDefinedMetadata).toEqual({ sequenceInput: { order: "pixels", permute: 7 } });

    // The same 300 test images through evaluate: the same loss to the last digit only if they
    // are permuted and cut into steps exactly as training did.
    const evaluation = await runCli(["evaluate", "--model", save, "--backend", "cpu", "--data", smallData, "--json"]);
    expect(evaluation.code).toBe(0);
    const test = find(trained, "test");
    expect(find(events(evaluation.stdout), "evaluation")).toMatchObject({ loss: test.loss, accuracy: test.accuracy, count: 300 });

    const { test: testSplit } = await loadMnist(smallData);
    const png = join(tmp.path, "digit.png");
    await writeFile(png, encode({ width: 28, height: 28, channels: 1, data: testSplit.images.slice(0, 784) }));
    const prediction = await runCli(["predict", "--model", save, "--backend", "cpu", "--json", png]);
    expect(prediction.stderr).toBe("");
    const probabilities = find(events(prediction.stdout), "prediction").probabilities as number[];
    expect(probabilities).toHaveLength(10);
    expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    // What predict must print: the model's probabilities for the preprocessed digit with its
    // pixels in the order of permutation 7, as a sequence of 784 single pixels.
    await tf.setBackend("cpu");
    const model = await loadModel(save);
    const pixels = preprocessDigit(await readPngFile(png)).pixels;
    const read = (values: Float32Array) => tf.tidy(() => model.predict(tf.tensor3d(values, [1, 784, 1])).arraySync()[0]!);
    const expected = read(permutePixels(pixels, pixelPermutation(784, 7)));
    const unpermuted = read(pixels);
    model.dispose();
    probabilities.forEach((p, k) => expect(p, `class ${k}`).toBeCloseTo(expected[k]!, 6));
    // The permutation matters: the same pixels in their own order give other probabilities.
    expect(Math.max(...unpermuted.map((p, k) => Math.abs(p - expected[k]!)))).toBeGreaterThan(1e-3);
  });

  it("stacks GRU layers", async () => {
    const save = join(tmp.path, "gru-2");
    const { code, stdout } = await runCli([
      "train", "--cell", "gru", "--layers", "2", "--hidden", "8", "--iters", "321", "--batch-size", "32", "--display-step", "5",
      "--backend", "cpu", "--data", smallData, "--logdir", join(tmp.path, "logs"), "--save", save, "--json",
    ]);
    expect(code).toBe(0);
    expect(find(events(stdout), "start")).toMatchObject({ model: { cell: "gru", layers: 2 } });
    const modelJson = JSON.parse(await readFile(join(save, "model.json"), "utf8")) as { weightsManifest: { weights: { name: string }[] }[] };
    const names = modelJson.weightsManifest.flatMap((group) => group.weights.map((weight) => weight.name));
    expect(names).toEqual(expect.arrayContaining(["gru/gates/kernel", "gru_2/gates/kernel", "gru_2/candidate/bias"]));
    const losses = events(stdout).filter((e) => e.event === "log").map((e) => e.loss as number);
    expect(losses.every(Number.isFinite)).toBe(true);
  });
});

describe("validation and presets", () => {
  it("validates on the held-out images every epoch, on the console and in TensorBoard", async () => {
    const logdir = join(tmp.path, "logs-validation");
    const { code, stdout } = await runCli([
      "train", "--epochs", "2", "--validate-every", "epoch", "--batch-size", "64", "--hidden", "16", "--display-step", "100",
      "--backend", "cpu", "--data", smallData, "--logdir", logdir, "--run", "v",
    ]);
    expect(code).toBe(0);
    const lines = stdout.split("\n").filter((line) => line.includes("Validation"));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^Epoch 1, Validation Loss= \d+\.\d{6}, Validation Accuracy= \d\.\d{5}$/);
    expect(lines[1]).toMatch(/^Epoch 2, /);
    const [eventFile] = await listFiles(join(logdir, "v"));
    const written = await readFile(join(logdir, "v", eventFile!));
    expect(countTag(written, "validation/accuracy")).toBe(2);
    expect(countTag(written, "validation/loss")).toBe(2);
  });

  it("--preset best fills the flags not typed, and tests and saves the best validation weights", async () => {
    const save = join(tmp.path, "preset");
    const { code, stdout } = await runCli([
      "train", "--preset", "best", "--iters", "1281", "--validate-every", "5", "--lr", "0.01", "--hidden", "16", "--batch-size", "64",
      "--backend", "cpu", "--data", smallData, "--logdir", join(tmp.path, "logs"), "--save", save, "--json",
    ]);
    expect(code).toBe(0);
    const all = events(stdout);
    const start = find(all, "start") as unknown as { train: Record<string, unknown>; model: Record<string, unknown>; totalSteps: number };
    // Typed: --lr and --iters (which replaces the preset's epochs); the rest from the preset.
    expect(start.train).toMatchObject({ learningRate: 0.01, warmupSteps: 200, decay: "cosine", clipNorm: 5 });
    expect(start.train.epochs).toBeUndefined();
    expect(start.totalSteps).toBe(20);
    expect(start.train).toMatchObject({ maxShift: 2, dropout: 0 });
    expect(start.model).toMatchObject({ recurrentInit: "orthogonal" });
    const validations = all.filter((e) => e.event === "validation");
    expect(validations.map((e) => e.step)).toEqual([5, 10, 15, 20]);
    const best = Math.max(...validations.map((e) => e.accuracy as number));
    const bestStep = validations.find((e) => e.accuracy === best)?.step;
    expect(find(all, "restored")).toMatchObject({ step: bestStep, accuracy: best });

    const evaluation = await runCli(["evaluate", "--model", save, "--backend", "cpu", "--data", smallData, "--json"]);
    expect(find(events(evaluation.stdout), "evaluation").accuracy).toBe(find(all, "test").accuracy);
  });

  it("--preset tutorial-exact records the tutorial's N(0, 1) dense layers and h*(W + b) output in model.json, and a typed flag wins", async () => {
    const exact = join(tmp.path, "exact");
    const typed = join(tmp.path, "exact-typed");
    const common = ["--iters", "64", "--batch-size", "32", "--hidden", "8", "--backend", "cpu", "--data", smallData, "--logdir", join(tmp.path, "logs-exact")];
    const first = await runCli(["train", "--preset", "tutorial-exact", ...common, "--save", exact, "--json"]);
    expect(first.code).toBe(0);
    const start = find(events(first.stdout), "start") as unknown as { model: Record<string, unknown> };
    expect(start.model).toMatchObject({ denseInit: "normal", outputBias: "in-weights" });
    const saved = JSON.parse(await readFile(join(exact, "model.json"), "utf8")) as { config: Record<string, unknown> };
    expect(saved.config).toMatchObject({ denseInit: "normal", outputBias: "in-weights", recurrentInit: "glorot" });
    // The default run folder says what differs from the default model.
    expect((await listFiles(join(tmp.path, "logs-exact"))).some((entry) => /-lstm-h8-normalinit-biasinweights\//.test(entry))).toBe(true);

    const second = await runCli(["train", "--preset", "tutorial-exact", "--dense-init", "glorot", "--output-bias", "added", ...common, "--save", typed]);
    expect(second.code).toBe(0);
    const overridden = JSON.parse(await readFile(join(typed, "model.json"), "utf8")) as { config: Record<string, unknown> };
    expect(overridden.config).toMatchObject({ denseInit: "glorot", outputBias: "added" });
    const evaluation = await runCli(["evaluate", "--model", typed, "--backend", "cpu", "--data", smallData, "--json"]);
    expect(evaluation.code).toBe(0);
  });

  it("--preset best leaves out the random shifts for pixel sequences", async () => {
    const { code, stdout, stderr } = await runCli([
      "train", "--preset", "best", "--sequence", "pixels", "--iters", "33", "--batch-size", "32", "--hidden", "8",
      "--backend", "cpu", "--data", smallData, "--logdir", join(tmp.path, "logs"), "--json",
    ]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const start = find(events(stdout), "start") as unknown as { train: Record<string, unknown>; input: Record<string, unknown> };
    expect(start.input).toEqual({ order: "pixels" });
    expect(start.train).toMatchObject({ maxShift: 0, decay: "cosine" });
  });
});
