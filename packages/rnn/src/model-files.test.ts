import * as tf from "@tensorflow/tfjs-core";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useBackend } from "./backends.test-support.js";
import { ModelFormatError } from "./errors.js";
import { SequenceClassifier } from "./sequence-classifier.js";

const tiny = { inputSize: 3, steps: 4, hiddenSize: 5, classes: 3, seed: 7 };
let root: string;

beforeAll(async () => {
  await useBackend("cpu");
  root = await mkdtemp(join(tmpdir(), "mnist-rnn-model-"));
});
afterAll(() => rm(root, { recursive: true, force: true }));

async function weightsOf(model: SequenceClassifier): Promise<Record<string, number[]>> {
  const entries = await Promise.all(
    Object.entries(model.variables).map(async ([name, v]) => [name, Array.from(await v.data())] as const),
  );
  return Object.fromEntries(entries);
}

/** A saved model whose model.json the test then edits. */
async function savedModel(name: string): Promise<{ dir: string; json: Record<string, any> }> {
  const dir = join(root, name);
  const model = SequenceClassifier.create(tiny);
  await model.save(dir);
  model.dispose();
  return { dir, json: JSON.parse(await readFile(join(dir, "model.json"), "utf8")) };
}

async function loadError(dir: string): Promise<ModelFormatError> {
  const error = await SequenceClassifier.load(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelFormatError);
  return error as ModelFormatError;
}

describe("save and load", () => {
  it("round-trips config and weights, GRU too, and predicts the same", async () => {
    for (const cell of ["lstm", "gru"] as const) {
      const model = SequenceClassifier.create({ ...tiny, cell, forgetBias: 0.5 });
      const dir = join(root, `round-trip-${cell}`);
      await model.save(dir);
      const loaded = await SequenceClassifier.load(dir);
      expect(loaded.config).toEqual(model.config);
      expect(await weightsOf(loaded)).toEqual(await weightsOf(model));
      const images = tf.randomUniform([2, tiny.steps, tiny.inputSize]) as tf.Tensor3D;
      expect(await loaded.predict(images).data()).toEqual(await model.predict(images).data());
      expect((await readdir(dir)).sort()).toEqual(["model.json", "weights.bin"]);
      model.dispose();
      loaded.dispose();
    }
  });

  it("round-trips a stacked orthogonal-init model with its metadata", async () => {
    for (const cell of ["lstm", "gru"] as const) {
      const metadata = { sequence: "pixels", permute: 7, note: { tags: ["a", "b"], ratio: 0.25, none: null } };
      const model = SequenceClassifier.create({ ...tiny, cell, layers: 2, recurrentInit: "orthogonal" }, { metadata });
      const dir = join(root, `stacked-${cell}`);
      await model.save(dir);
      const json = JSON.parse(await readFile(join(dir, "model.json"), "utf8"));
      expect(json.userDefinedMetadata).toEqual(metadata);
      expect(json.weightsManifest[0].weights.map((w: { name: string }) => w.name)).toEqual(Object.keys(model.variables));
      const loaded = await SequenceClassifier.load(dir);
      expect(loaded.config).toEqual({ ...model.config, layers: 2, recurrentInit: "orthogonal" });
      expect(loaded.metadata).toEqual(metadata);
      expect(await weightsOf(loaded)).toEqual(await weightsOf(model));
      const images = tf.randomUniform([2, tiny.steps, tiny.inputSize]) as tf.Tensor3D;
      expect(await loaded.predict(images).data()).toEqual(await model.predict(images).data());
      model.dispose();
      loaded.dispose();
    }
  });

  it("stores weights.bin in parameter order for a stacked model: input, layer 1, layer 2, output", async () => {
    const model = SequenceClassifier.create({ ...tiny, layers: 2 });
    const dir = join(root, "stacked-order");
    await model.save(dir);
    const bytes = await readFile(join(dir, "weights.bin"));
    const floats = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));
    const weights = await weightsOf(model);
    const order = ["input/kernel", "input/bias", "lstm/kernel", "lstm/bias", "lstm_2/kernel", "lstm_2/bias", "output/kernel", "output/bias"];
    expect(floats).toEqual(order.flatMap((name) => weights[name]!));
    model.dispose();
  });

  it("loads model.json files written before layers, recurrentInit and metadata existed", async () => {
    const { dir, json } = await savedModel("before-stacking");
    delete json.config.layers;
    delete json.config.recurrentInit;
    delete json.userDefinedMetadata;
    expect(Object.keys(json.config).sort()).toEqual(["cell", "classes", "forgetBias", "hiddenSize", "inputSize", "seed", "steps"]);
    await writeFile(join(dir, "model.json"), JSON.stringify(json));
    const loaded = await SequenceClassifier.load(dir);
    expect(loaded.config).toMatchObject({ layers: 1, recurrentInit: "glorot" });
    expect(loaded.metadata).toEqual({});
    const original = SequenceClassifier.create(tiny);
    expect(await weightsOf(loaded)).toEqual(await weightsOf(original));
    original.dispose();
    loaded.dispose();
  });

  it("writes TensorFlow.js's weights-manifest layout with float32 weights in manifest order", async () => {
    const { dir, json } = await savedModel("layout");
    expect(json.format).toBe("mnist-rnn/sequence-classifier");
    expect(json.config).toEqual({ cell: "lstm", forgetBias: 1, layers: 1, recurrentInit: "glorot", ...tiny });
    expect(json.userDefinedMetadata).toEqual({});
    expect(json.weightsManifest).toEqual([
      {
        paths: ["weights.bin"],
        weights: [
          { name: "input/kernel", shape: [3, 5], dtype: "float32" },
          { name: "input/bias", shape: [5], dtype: "float32" },
          { name: "lstm/kernel", shape: [10, 20], dtype: "float32" },
          { name: "lstm/bias", shape: [20], dtype: "float32" },
          { name: "output/kernel", shape: [5, 3], dtype: "float32" },
          { name: "output/bias", shape: [3], dtype: "float32" },
        ],
      },
    ]);
    const bytes = await readFile(join(dir, "weights.bin"));
    const floats = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    const model = SequenceClassifier.create(tiny);
    expect(Array.from(floats.slice(0, 15))).toEqual((await weightsOf(model))["input/kernel"]);
    expect(floats.length).toBe(15 + 5 + 200 + 20 + 15 + 3);
    model.dispose();
  });

  it("overwrites an existing save in place", async () => {
    const { dir } = await savedModel("overwrite");
    const other = SequenceClassifier.create({ ...tiny, seed: 8 });
    await other.save(dir);
    const loaded = await SequenceClassifier.load(dir);
    expect(await weightsOf(loaded)).toEqual(await weightsOf(other));
    other.dispose();
    loaded.dispose();
  });

  it("names the file when the folder or a file is missing", async () => {
    const missing = await loadError(join(root, "nothing-here"));
    expect(missing.file).toBe(join(root, "nothing-here", "model.json"));
    expect(missing.field).toBe("(file)");
    const { dir } = await savedModel("no-weights");
    await rm(join(dir, "weights.bin"));
    expect((await loadError(dir)).file).toBe(join(dir, "weights.bin"));
  });

  it("names the file and field of a bad model.json", async () => {
    const { dir, json } = await savedModel("bad-json");
    type Edit = (j: Record<string, any>) => void;
    const cases: [Edit, string][] = [
      [(j: Record<string, any>) => { j.format = "keras"; }, "format"],
      [(j: Record<string, any>) => { delete j.config.hiddenSize; }, "config.hiddenSize"],
      [(j: Record<string, any>) => { j.config.steps = -1; }, "config.steps"],
      [(j: Record<string, any>) => { j.config.layers = 0; }, "config.layers"],
      [(j: Record<string, any>) => { j.config.recurrentInit = "he"; }, "config.recurrentInit"],
      [(j: Record<string, any>) => { j.userDefinedMetadata = ["pixels"]; }, "userDefinedMetadata"],
      [(j: Record<string, any>) => { j.userDefinedMetadata = "pixels"; }, "userDefinedMetadata"],
      [(j: Record<string, any>) => { j.weightsManifest[0].weights[2].shape = [20, 10]; }, "weightsManifest[0].weights[2].shape"],
      [(j: Record<string, any>) => { j.weightsManifest[0].weights[1].name = "input/bais"; }, "weightsManifest[0].weights[1].name"],
      [(j: Record<string, any>) => { j.weightsManifest[0].weights[0].dtype = "float16"; }, "weightsManifest[0].weights[0].dtype"],
      [(j: Record<string, any>) => { j.weightsManifest[0].paths = ["../elsewhere.bin"]; }, "weightsManifest[0].paths"],
    ];
    for (const [edit, field] of cases) {
      const copy = structuredClone(json);
      edit(copy);
      await writeFile(join(dir, "model.json"), JSON.stringify(copy));
      const error = await loadError(dir);
      expect(error.file).toBe(join(dir, "model.json"));
      expect(error.field).toBe(field);
      expect(error.message).toContain(field);
    }
    await writeFile(join(dir, "model.json"), "{ not json");
    expect((await loadError(dir)).field).toBe("(JSON syntax)");
  });

  it("rejects a truncated weights.bin, naming it", async () => {
    const { dir } = await savedModel("truncated");
    const bytes = await readFile(join(dir, "weights.bin"));
    await writeFile(join(dir, "weights.bin"), bytes.subarray(0, bytes.length - 4));
    const error = await loadError(dir);
    expect(error.file).toBe(join(dir, "weights.bin"));
    expect(error.message).toMatch(/1032 bytes.*1028 bytes/);
  });
});

describe("artifacts", () => {
  it("round-trips through toArtifacts and fromArtifacts without a file system", async () => {
    const model = SequenceClassifier.create({ ...tiny, cell: "gru" });
    const { modelJson, weights } = await model.toArtifacts();
    const copy = SequenceClassifier.fromArtifacts(JSON.parse(JSON.stringify(modelJson)), weights.slice(0));
    expect(copy.config).toEqual(model.config);
    expect(await weightsOf(copy)).toEqual(await weightsOf(model));
    expect(() => SequenceClassifier.fromArtifacts({ ...modelJson, format: undefined }, weights)).toThrow(
      /model\.json: bad format/,
    );
    expect(() => SequenceClassifier.fromArtifacts(modelJson, weights.slice(8))).toThrow(/weights\.bin/);
    model.dispose();
    copy.dispose();
  });
});
