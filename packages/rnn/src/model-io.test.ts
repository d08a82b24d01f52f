import * as tf from "@tensorflow/tfjs-core";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useBackend } from "./backends.test-support.js";
import { ModelFormatError, ModelTooLargeError, ModelWriteError } from "./errors.js";
import { readModel, writeModel } from "./model-io.js";
import { loadModel, saveModel } from "./node.js";
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
  await saveModel(model, dir);
  model.dispose();
  return { dir, json: JSON.parse(await readFile(join(dir, "model.json"), "utf8")) };
}

async function loadError(dir: string): Promise<ModelFormatError> {
  const error = await loadModel(dir).then(
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
      await saveModel(model, dir);
      const loaded = await loadModel(dir);
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
      await saveModel(model, dir);
      const json = JSON.parse(await readFile(join(dir, "model.json"), "utf8"));
      expect(json.userDefinedMetadata).toEqual(metadata);
      expect(json.weightsManifest[0].weights.map((w: { name: string }) => w.name)).toEqual(Object.keys(model.variables));
      const loaded = await loadModel(dir);
      expect(loaded.config).toEqual({ ...model.config, layers: 2, recurrentInit: "orthogonal" });
      expect(loaded.metadata).toEqual(metadata);
      expect(await weightsOf(loaded)).toEqual(await weightsOf(model));
      const images = tf.randomUniform([2, tiny.steps, tiny.inputSize]) as tf.Tensor3D;
      expect(await loaded.predict(images).data()).toEqual(await model.predict(images).data());
      model.dispose();
      loaded.dispose();
    }
  });

  it("round-trips the tutorial's exact model (N(0, 1) dense layers, output bias in the weights)", async () => {
    const model = SequenceClassifier.create({ ...tiny, denseInit: "normal", outputBias: "in-weights", seed: 6 });
    const dir = join(root, "tutorial-exact");
    await saveModel(model, dir);
    const json = JSON.parse(await readFile(join(dir, "model.json"), "utf8"));
    expect(json.config).toMatchObject({ denseInit: "normal", outputBias: "in-weights" });
    const loaded = await loadModel(dir);
    expect(loaded.config).toEqual(model.config);
    expect(await weightsOf(loaded)).toEqual(await weightsOf(model));
    const images = tf.randomUniform([2, tiny.steps, tiny.inputSize]) as tf.Tensor3D;
    expect(await loaded.logits(images).data()).toEqual(await model.logits(images).data());
    model.dispose();
    loaded.dispose();
  });

  it("stores weights.bin in parameter order for a stacked model: input, layer 1, layer 2, output", async () => {
    const model = SequenceClassifier.create({ ...tiny, layers: 2 });
    const dir = join(root, "stacked-order");
    await saveModel(model, dir);
    const bytes = await readFile(join(dir, "weights.bin"));
    const floats = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));
    const weights = await weightsOf(model);
    const order = ["input/kernel", "input/bias", "lstm/kernel", "lstm/bias", "lstm_2/kernel", "lstm_2/bias", "output/kernel", "output/bias"];
    expect(floats).toEqual(order.flatMap((name) => weights[name]!));
    model.dispose();
  });

  it("writes TensorFlow.js's weights-manifest layout with float32 weights in manifest order", async () => {
    const { dir, json } = await savedModel("layout");
    expect(json.format).toBe("mnist-rnn/sequence-classifier");
    expect(json.config).toEqual({ cell: "lstm", forgetBias: 1, layers: 1, recurrentInit: "glorot", denseInit: "glorot", outputBias: "added", ...tiny });
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
    await saveModel(other, dir);
    const loaded = await loadModel(dir);
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
      [(j: Record<string, any>) => { delete j.config.denseInit; }, "config.denseInit"],
      [(j: Record<string, any>) => { j.config.denseInit = "uniform"; }, "config.denseInit"],
      [(j: Record<string, any>) => { delete j.config.outputBias; }, "config.outputBias"],
      [(j: Record<string, any>) => { j.config.outputBias = true; }, "config.outputBias"],
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

describe("readModel and writeModel over functions", () => {
  /** A store of files in memory, with a log of what was read. */
  function memoryStore(): { files: Map<string, Uint8Array>; reads: string[]; read: (name: string) => Promise<Uint8Array> } {
    const files = new Map<string, Uint8Array>();
    const reads: string[] = [];
    const read = async (name: string) => {
      reads.push(name);
      const bytes = files.get(name);
      if (bytes === undefined) throw new Error(`no file ${name}`);
      return bytes;
    };
    return { files, reads, read };
  }

  it("round-trips without a file system, writing the weights before model.json", async () => {
    const model = SequenceClassifier.create({ ...tiny, cell: "gru" }, { metadata: { note: "memory" } });
    const { files, read } = memoryStore();
    const order: string[] = [];
    await writeModel(model, async (name, bytes) => {
      order.push(name);
      files.set(name, bytes.slice());
    });
    expect(order).toEqual(["weights.bin", "model.json"]);
    const copy = await readModel(read);
    expect(copy.config).toEqual(model.config);
    expect(copy.metadata).toEqual({ note: "memory" });
    expect(await weightsOf(copy)).toEqual(await weightsOf(model));
    model.dispose();
    copy.dispose();
  });

  it("refuses weights beyond the limit from model.json's declaration, before reading them", async () => {
    const model = SequenceClassifier.create(tiny);
    const { files, reads, read } = memoryStore();
    await writeModel(model, async (name, bytes) => void files.set(name, bytes.slice()));
    model.dispose();
    const json = JSON.parse(new TextDecoder().decode(files.get("model.json")));
    json.weightsManifest[0].weights[2].shape = [100000, 100000];
    files.set("model.json", new TextEncoder().encode(JSON.stringify(json)));
    const error = await readModel(read).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelTooLargeError);
    expect((error as ModelTooLargeError).message).toMatch(/^model\.json: weightsManifest: expected at most 268435456 bytes, found 40000000232 bytes\. Hint: .*--max-model-mb 40001/);
    expect(reads).toEqual(["model.json"]);
    const small = (await readModel(read, { maxBytes: 100 }).catch((e: unknown) => e)) as ModelTooLargeError;
    expect([small.file, small.field]).toEqual(["model.json", "(file size)"]);
  });

  it("refuses a weight that is not a finite number, naming it and its index", async () => {
    const model = SequenceClassifier.create(tiny);
    const { files, read } = memoryStore();
    await writeModel(model, async (name, bytes) => void files.set(name, bytes.slice()));
    model.dispose();
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const weights = new Float32Array(files.get("weights.bin")!.slice().buffer);
      weights[15 + 2] = bad; // input/bias[2]
      files.set("weights.bin", new Uint8Array(weights.buffer));
      const error = (await readModel(read).catch((e: unknown) => e)) as ModelFormatError;
      expect(error).toBeInstanceOf(ModelFormatError);
      expect(error.file).toBe("weights.bin");
      expect(error.field).toBe("input/bias[2]");
      expect(error.message).toContain(`expected a finite number, found ${bad}`);
    }
  });

  it("never echoes control bytes from model.json", async () => {
    const { files, read } = memoryStore();
    files.set("model.json", new TextEncoder().encode(JSON.stringify({ format: "\u001b[2J\u0007evil" })));
    const error = (await readModel(read).catch((e: unknown) => e)) as ModelFormatError;
    expect(error).toBeInstanceOf(ModelFormatError);
    expect(error.message).not.toMatch(/[\u0000-\u001f]/);
    files.set("model.json", Uint8Array.from([0x7b, 0xff, 0xfe, 0x1b, 0x7d]));
    const binary = (await readModel(read).catch((e: unknown) => e)) as ModelFormatError;
    expect(binary.field).toBe("(JSON syntax)");
    expect(binary.message).not.toMatch(/[\u0000-\u001f]/);
  });
});

describe("loadModel", () => {
  it("refuses a file above the limit from its size on disk", async () => {
    const { dir } = await savedModel("large-file");
    await writeFile(join(dir, "weights.bin"), new Uint8Array(5000));
    const error = (await loadModel(dir, { maxBytes: 4000 }).catch((e: unknown) => e)) as ModelTooLargeError;
    expect(error).toBeInstanceOf(ModelTooLargeError);
    expect([error.file, error.field, error.declared, error.limit]).toEqual([join(dir, "weights.bin"), "(file size)", 5000, 4000]);
  });
});

describe("saveModel", () => {
  it("names the file it cannot write", async () => {
    const blocker = join(root, "a-file");
    await writeFile(blocker, "not a folder");
    const model = SequenceClassifier.create(tiny);
    const error = await saveModel(model, join(blocker, "model")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelWriteError);
    expect((error as ModelWriteError).file).toBe(join(blocker, "model"));
    expect((error as Error).message).toMatch(/a-file\/model: cannot write: (ENOTDIR|EEXIST)/);
    model.dispose();
  });
});
