import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
// tfjs-layers calls chained tensor methods (its orthogonal initializer, tensor.flatten()).
import "@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops";
import * as tfl from "@tensorflow/tfjs-layers";
import { orderedBatches, pixelPermutation, sequenceInputMetadata } from "@mnist/data";
import { loadMnist } from "@mnist/data/node";
import { SequenceClassifier } from "@mnist/rnn";
import { loadModel, saveModel } from "@mnist/rnn/node";
import { afterEach, describe, expect, it } from "vitest";
import { listFiles, runCli, tempDir } from "./cli.test-support.js";
import { fixtureModel } from "./fixtures.test-support.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function outDir(): Promise<string> {
  const dir = await tempDir("export");
  cleanups.push(dir.remove);
  return dir.path;
}

/** The exported folder as tf.loadLayersModel reads it (model.json, then the weights it lists). */
async function loadExported(dir: string): Promise<{ model: tfl.LayersModel; modelJson: Record<string, unknown> }> {
  const modelJson = JSON.parse(await readFile(join(dir, "model.json"), "utf8"));
  const [group] = modelJson.weightsManifest;
  const weights = await readFile(join(dir, group.paths[0]));
  const model = await tfl.loadLayersModel(
    tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: group.weights, weightData: new Uint8Array(weights).buffer }),
  );
  return { model, modelJson };
}

describe("mnist-rnn export", () => {
  it("writes the fixture model as a Layers model that tfjs-layers loads and that gives our probabilities", async () => {
    const out = join(await outDir(), "layers");
    const result = await runCli(["export", "--model", fixtureModel, "--out", out, "--backend", "cpu"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Input: [batch, 28, 28] float32, 28 steps of 28 pixels, step r = image row r, pixel values / 255");
    expect(result.stdout).toContain(`tensorflowjs_converter --input_format=tfjs_layers_model --output_format=keras ${join(out, "model.json")} model.h5`);
    expect(await listFiles(out)).toEqual(["model.json", "weights.bin"]);

    const { model, modelJson } = await loadExported(out);
    expect(modelJson.format).toBe("layers-model");
    expect(modelJson.userDefinedMetadata).toMatchObject({ expectedInput: { shape: [null, 28, 28], dtype: "float32" } });
    const ours = await loadModel(fixtureModel);
    const { test } = await loadMnist();
    const [batch] = orderedBatches(test, 500);
    const difference = tf.tidy(() => {
      const images = tf.tensor3d(batch?.images ?? new Float32Array(), [500, 28, 28]); // [batch, steps, inputs]
      return tf.max(tf.abs(tf.sub(ours.predict(images), model.predict(images) as tf.Tensor2D)));
    });
    expect((await difference.data())[0]).toBeLessThan(1e-5);
    tf.dispose([difference]);
    ours.dispose();
    model.dispose();
  });

  it("says what input a permuted pixel model expects, on the command line and in model.json", async () => {
    const root = await outDir();
    const saved = join(root, "model");
    const model = SequenceClassifier.create({ steps: 784, inputSize: 1, hiddenSize: 4 }, { metadata: sequenceInputMetadata({ order: "pixels", permute: 7 }) });
    await saveModel(model, saved);
    model.dispose();
    const out = join(root, "layers");
    const result = await runCli(["export", "--model", saved, "--out", out, "--backend", "cpu", "--json"]);
    expect(result.code).toBe(0);
    const event = result.stdout.split("\n").filter(Boolean).map((line) => JSON.parse(line)).find((e) => e.event === "export");
    expect(event.input).toMatchObject({ shape: [null, 784, 1], permuted: true });
    expect(event.input.description).toContain("permutation with seed 7");
    const { modelJson } = await loadExported(out);
    const expected = (modelJson.userDefinedMetadata as { expectedInput: { pixelOrder: number[] } }).expectedInput;
    expect(expected.pixelOrder).toEqual(Array.from(pixelPermutation(784, 7)));
    expect(modelJson.userDefinedMetadata).toMatchObject({ sequenceInput: { order: "pixels", permute: 7 } });
  });

  it("reads the export back: evaluate gives the original model's accuracy and loss on the same images", async () => {
    const out = join(await outDir(), "layers");
    expect((await runCli(["export", "--model", fixtureModel, "--out", out, "--backend", "cpu"])).code).toBe(0);
    const evaluation = async (model: string) => {
      const result = await runCli(["evaluate", "--model", model, "--backend", "cpu", "--json"]);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      return result.stdout.split("\n").filter(Boolean).map((line) => JSON.parse(line)).find((e) => e.event === "evaluation");
    };
    const [original, exported] = [await evaluation(fixtureModel), await evaluation(out)];
    expect(exported.accuracy).toBe(original.accuracy);
    expect(Math.abs(exported.loss - original.loss)).toBeLessThan(1e-5);
  });

  it("refuses a non-empty --out with exit 2 and writes nothing", async () => {
    const out = await outDir();
    await writeFile(join(out, "notes.txt"), "keep me");
    const result = await runCli(["export", "--model", fixtureModel, "--out", out, "--backend", "cpu"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: --out: folder .* is not empty; pass --force/);
    expect(await listFiles(out)).toEqual(["notes.txt"]);
  });
});
