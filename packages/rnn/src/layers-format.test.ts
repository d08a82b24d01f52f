import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
// tfjs-layers calls chained tensor methods (its orthogonal initializer, tensor.flatten()).
import "@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops";
import * as tfl from "@tensorflow/tfjs-layers";
import { orderedBatches, type MnistSplit } from "@mnist/data";
import { loadMnist } from "@mnist/data/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, randomValues, useBackend } from "./backends.test-support.js";
import { resolveModelConfig, type ModelConfig } from "./config.js";
import { ModelFormatError } from "./errors.js";
import { decodeLayersModel, encodeLayersModel, LAYERS_MODEL_FORMAT, type ExpectedInput, type LayersModelJson } from "./layers-format.js";
import { readModel } from "./model-io.js";
import { loadModel } from "./node.js";
import { initialParameters, parameterSpecs } from "./parameters.js";
import { seededUniform } from "./seeded-uniform.js";
import { SequenceClassifier } from "./sequence-classifier.js";
import type { ModelSnapshot } from "./snapshot.js";
import type { FileSources } from "./weights-manifest.js";

/** The CLI's test model: LSTM, 32 hidden units, trained by the CLI. */
const FIXTURE = new URL("../../../apps/cli/test/fixtures/lstm-h32/", import.meta.url);

async function fixtureModel(): Promise<ModelSnapshot> {
  const model = await loadModel(fileURLToPath(FIXTURE));
  const snapshot = await model.snapshot();
  model.dispose();
  return snapshot;
}

function classifierOf(decoded: ModelSnapshot): SequenceClassifier {
  return SequenceClassifier.fromSnapshot(decoded);
}

async function decodedOf(model: SequenceClassifier): Promise<ModelSnapshot> {
  return model.snapshot();
}

/** The Layers model.json and weights of a snapshot, as writeModel stores them. */
function encodeLayers(snapshot: ModelSnapshot, options: { expectedInput?: ExpectedInput } = {}): { modelJson: LayersModelJson; weights: ArrayBuffer } {
  const { modelJson, weights } = encodeLayersModel(snapshot, "weights.bin", options);
  return { modelJson: modelJson as unknown as LayersModelJson, weights: weights.slice().buffer };
}

function decodeLayers(modelJson: object, weights: ArrayBuffer, sources: FileSources = { modelJson: "model.json", weights: "weights.bin" }): ModelSnapshot {
  return decodeLayersModel(modelJson as Record<string, unknown>, weights, sources);
}

function weightSpecs(modelJson: { weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] }): tf.io.WeightsManifestEntry[] {
  return modelJson.weightsManifest.flatMap((group) => group.weights);
}

/** What tfjs-layers itself makes of an exported model. */
function loadInLayers(encoded: { modelJson: LayersModelJson; weights: ArrayBuffer }): Promise<tfl.LayersModel> {
  return tfl.loadLayersModel(
    tf.io.fromMemory({ modelTopology: encoded.modelJson.modelTopology, weightSpecs: weightSpecs(encoded.modelJson), weightData: encoded.weights }),
  );
}

/** model.json + weights as tfjs-layers' model.save writes them (the file handler's layout). */
async function savedByLayers(model: tfl.LayersModel): Promise<{ modelJson: object; weights: ArrayBuffer }> {
  let saved: { modelJson: object; weights: ArrayBuffer } | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const { modelTopology, weightSpecs: specs, weightData, format, generatedBy, convertedBy } = artifacts;
      if (!(weightData instanceof ArrayBuffer)) throw new Error("expected one weights buffer");
      saved = { modelJson: { format, generatedBy, convertedBy, modelTopology, weightsManifest: [{ paths: ["weights.bin"], weights: specs }] }, weights: weightData };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
  return saved as { modelJson: object; weights: ArrayBuffer };
}

function slice(split: MnistSplit, count: number): MnistSplit {
  const pixels = split.rows * split.cols;
  return { ...split, images: split.images.subarray(0, count * pixels), labels: split.labels.subarray(0, count), count };
}

interface Comparison {
  maxDifference: number;
  oursCorrect: number;
  theirsCorrect: number;
}

/** Each of our models' probabilities against tfjs-layers' on every image of the split, in batches. */
async function compare(ours: SequenceClassifier[], theirs: tfl.LayersModel, split: MnistSplit): Promise<Comparison[]> {
  const results = ours.map((): Comparison => ({ maxDifference: 0, oursCorrect: 0, theirsCorrect: 0 }));
  for (const batch of orderedBatches(split, 1000)) {
    const summary = tf.tidy(() => {
      const images = tf.tensor3d(batch.images, [batch.size, split.rows, split.cols]); // [batch, steps, inputs]
      const labels = tf.tensor1d(batch.labels, "int32");
      const correct = (p: tf.Tensor2D) => tf.cast(tf.sum(tf.cast(tf.equal(tf.argMax(p, 1), labels), "int32")), "float32");
      const reference = theirs.predict(images) as tf.Tensor2D;
      const referenceCorrect = correct(reference);
      // Per model: max |difference|, our correct count, tfjs-layers' correct count.
      return tf.stack(ours.flatMap((model) => {
        const probabilities = model.predict(images);
        return [tf.max(tf.abs(tf.sub(probabilities, reference))), correct(probabilities), referenceCorrect];
      }));
    });
    const values = await summary.data();
    summary.dispose();
    results.forEach((result, k) => {
      result.maxDifference = Math.max(result.maxDifference, values[3 * k] ?? Number.NaN);
      result.oursCorrect += values[3 * k + 1] ?? 0;
      result.theirsCorrect += values[3 * k + 2] ?? 0;
    });
  }
  return results;
}

/** A few Adam steps of our own trainer's computation, so that every bias is non-zero. */
async function trainBriefly(model: SequenceClassifier, split: MnistSplit, steps: number): Promise<void> {
  const optimizer = tf.train.adam(0.01);
  let step = 0;
  for (const batch of orderedBatches(split, 100)) {
    if (step++ === steps) break;
    tf.tidy(() => {
      const images = tf.tensor3d(batch.images, [batch.size, split.rows, split.cols]);
      const { gradients } = model.lossAndGradients(images, tf.tensor1d(batch.labels, "int32"));
      optimizer.applyGradients(Object.entries(gradients).map(([name, tensor]) => ({ name: (model.variables[name] as tf.Variable).name, tensor })));
    });
  }
  optimizer.dispose();
}

/** A model of `config` with every value (biases too) drawn at random. */
function randomModel(config: Partial<ModelConfig>, seed: number): ModelSnapshot {
  const resolved = resolveModelConfig(config);
  const uniform = seededUniform(seed);
  const values = new Map(parameterSpecs(resolved).map((spec) => [spec.name, Float32Array.from(randomValues(spec.shape.reduce((a, b) => a * b, 1), uniform, 0.6))]));
  return { config: resolved, values, metadata: { note: "random" } };
}

let mnist: Awaited<ReturnType<typeof loadMnist>>;
beforeAll(async () => {
  mnist = await loadMnist();
});

/**
 * Test images compared per backend: all of them on wasm; on cpu, whose unfused kernels take
 * minutes for 10000 images through tfjs-layers, the first 300 (the same code, another engine).
 */
const COMPARED_IMAGES: Record<(typeof BACKENDS)[number], number> = { wasm: 10000, cpu: 300 };

describe.each(BACKENDS)("Layers export and import on %s", (backend) => {
  beforeAll(() => useBackend(backend));
  const testImages = () => slice(mnist.test, COMPARED_IMAGES[backend]);
  const disposables: { dispose(): void }[] = [];
  afterAll(() => {
    for (const item of disposables) item.dispose();
  });

  /**
   * Export -> tfjs-layers, then import -> export -> import: both of our models must give
   * tfjs-layers' probabilities on every test image.
   */
  async function checkRoundTrip(decoded: ModelSnapshot, split: MnistSplit): Promise<Comparison[]> {
    const ours = classifierOf(decoded);
    disposables.push(ours);
    const exported = encodeLayers(decoded);
    const theirs = await loadInLayers(exported);
    disposables.push(theirs);
    expect(theirs.weights.map((w) => w.originalName)).toEqual(weightSpecs(exported.modelJson).map((spec) => spec.name));

    const imported = decodeLayers(exported.modelJson, exported.weights);
    const reexported = encodeLayers(imported);
    expect(new Float32Array(reexported.weights)).toEqual(new Float32Array(exported.weights));
    // The same file but for the recurrent initializer (which only a re-initialisation would use).
    const initializerFree = (json: LayersModelJson) => JSON.stringify(json, (key, value: unknown) => (key.endsWith("_initializer") ? undefined : value));
    expect(initializerFree(reexported.modelJson)).toBe(initializerFree(exported.modelJson));
    const reimported = decodeLayers(reexported.modelJson, reexported.weights);
    expect(reimported).toEqual(imported);
    expect(reimported.config).toEqual({ ...decoded.config, forgetBias: 0, recurrentInit: "glorot", denseInit: "glorot", outputBias: "added", seed: 0 });
    const again = classifierOf(reimported);
    disposables.push(again);

    const results = await compare([ours, again], theirs, split);
    for (const result of results) {
      expect(result.maxDifference).toBeLessThan(1e-5);
      expect(result.oursCorrect).toBe(result.theirsCorrect);
    }
    return results;
  }

  it("exports the CLI's fixture model so tfjs-layers gives our probabilities on all 10000 test images", async () => {
    const split = testImages();
    const [direct] = await checkRoundTrip(await fixtureModel(), split);
    console.log(`fixture on ${backend}: max |difference| ${direct?.maxDifference.toExponential(2)}, ${direct?.oursCorrect} of ${split.count} correct`);
    expect(direct?.oursCorrect).toBeGreaterThan(0.95 * split.count);
  }, 300_000);

  it("exports a freshly trained 2-layer LSTM (forget bias folded) the same way", async () => {
    const model = SequenceClassifier.create({ hiddenSize: 24, layers: 2, recurrentInit: "orthogonal", seed: 3 }, { metadata: { sequence: "rows" } });
    disposables.push(model);
    await trainBriefly(model, slice(mnist.train, 3000), 30);
    const decoded = await decodedOf(model);
    expect(decoded.values.get("lstm_2/bias")?.some((v) => v !== 0)).toBe(true);
    const split = testImages();
    const [direct] = await checkRoundTrip(decoded, split);
    console.log(`2-layer LSTM on ${backend}: max |difference| ${direct?.maxDifference.toExponential(2)}, ${direct?.oursCorrect} of ${split.count} correct`);
    expect(direct?.oursCorrect).toBeGreaterThan(0.5 * split.count);
  }, 300_000);

  it("exports the tutorial's exact model: the output bias folded into the kernel, N(0, 1) initializers", async () => {
    const decoded = randomModel({ hiddenSize: 16, denseInit: "normal", outputBias: "in-weights" }, 13);
    const { modelJson, weights } = encodeLayers(decoded);
    const [input, , output] = modelJson.modelTopology.config.layers;
    for (const layer of [input, output]) {
      expect(layer?.config.kernel_initializer).toEqual({ class_name: "RandomNormal", config: { mean: 0, stddev: 1, seed: null } });
      expect(layer?.config.bias_initializer).toEqual({ class_name: "RandomNormal", config: { mean: 0, stddev: 1, seed: null } });
    }
    const floats = new Float32Array(weights);
    const [kernel, bias] = [decoded.values.get("output/kernel")!, decoded.values.get("output/bias")!];
    const exported = floats.subarray(floats.length - kernel.length - bias.length);
    expect(Array.from(exported.subarray(0, kernel.length))).toEqual(Array.from(kernel, (w, k) => Math.fround(w + bias[k % 10]!)));
    expect(Array.from(exported.subarray(kernel.length))).toEqual(new Array(10).fill(0));
    const [direct] = await checkRoundTrip(decoded, slice(mnist.test, 300));
    console.log(`tutorial-exact LSTM on ${backend}: max |difference| ${direct?.maxDifference.toExponential(2)}`);
  }, 120_000);

  it("exports a 2-layer GRU as Keras GRUs with reset_after false", async () => {
    const decoded = randomModel({ cell: "gru", hiddenSize: 16, layers: 2 }, 11);
    const layers = encodeLayers(decoded).modelJson.modelTopology.config.layers;
    expect(layers.map((layer) => [layer.class_name, layer.config.reset_after])).toEqual([
      ["Dense", undefined],
      ["GRU", false],
      ["GRU", false],
      ["Dense", undefined],
    ]);
    const [direct] = await checkRoundTrip(decoded, slice(mnist.test, 300));
    console.log(`2-layer GRU on ${backend}: max |difference| ${direct?.maxDifference.toExponential(2)}`);
  }, 120_000);
});

describe("encodeLayersModel", () => {
  beforeAll(() => useBackend("cpu"));

  it("writes the Layers API's model.json layout, weight names and the expected input", () => {
    const decoded: ModelSnapshot = { config: resolveModelConfig({ hiddenSize: 8, layers: 2, steps: 784, inputSize: 1 }), values: initialParameters(resolveModelConfig({ hiddenSize: 8, layers: 2, steps: 784, inputSize: 1 })), metadata: { sequenceInput: { order: "pixels", permute: 5 } } };
    const { modelJson, weights } = encodeLayers(decoded, { expectedInput: { description: "784 steps of 1 pixel", pixelOrder: [2, 0, 1] } });
    expect(modelJson.format).toBe(LAYERS_MODEL_FORMAT);
    const layers = modelJson.modelTopology.config.layers;
    expect(layers.map((layer) => [layer.class_name, layer.config.name, layer.config.return_sequences])).toEqual([
      ["Dense", "input_projection", undefined],
      ["LSTM", "lstm_layer_1", true],
      ["LSTM", "lstm_layer_2", false],
      ["Dense", "classifier", undefined],
    ]);
    expect(layers[0]?.config.batch_input_shape).toEqual([null, 784, 1]);
    expect(layers[1]?.config.recurrent_activation).toBe("sigmoid");
    expect(layers[3]?.config.activation).toBe("softmax");
    expect(weightSpecs(modelJson).map((spec) => `${spec.name} [${spec.shape.join(",")}]`)).toEqual([
      "input_projection/kernel [1,8]",
      "input_projection/bias [8]",
      "lstm_layer_1/kernel [8,32]",
      "lstm_layer_1/recurrent_kernel [8,32]",
      "lstm_layer_1/bias [32]",
      "lstm_layer_2/kernel [8,32]",
      "lstm_layer_2/recurrent_kernel [8,32]",
      "lstm_layer_2/bias [32]",
      "classifier/kernel [8,10]",
      "classifier/bias [10]",
    ]);
    expect(weights.byteLength).toBe(4 * (8 + 8 + 2 * (2 * 256 + 32) + 80 + 10));
    expect(modelJson.userDefinedMetadata).toEqual({
      sequenceInput: { order: "pixels", permute: 5 },
      expectedInput: { shape: [null, 784, 1], dtype: "float32", description: "784 steps of 1 pixel", pixelOrder: [2, 0, 1] },
    });
  });

  it("reorders the gates i, j, f, o to i, f, c, o, splits the kernel and folds the forget bias", () => {
    // hidden 1: each gate block is one column, so every value can be placed by hand.
    const config = resolveModelConfig({ inputSize: 1, steps: 2, hiddenSize: 1, classes: 2, forgetBias: 1 });
    const values = new Map<string, Float32Array>([
      ["input/kernel", Float32Array.of(1)],
      ["input/bias", Float32Array.of(0)],
      // rows [x, h]; columns i, j, f, o
      ["lstm/kernel", Float32Array.of(11, 12, 13, 14, 21, 22, 23, 24)],
      ["lstm/bias", Float32Array.of(0.1, 0.2, 0.3, 0.4)],
      ["output/kernel", Float32Array.of(5, 6)],
      ["output/bias", Float32Array.of(7, 8)],
    ]);
    const weights = new Float32Array(encodeLayers({ config, values, metadata: {} }).weights);
    // input kernel, input bias, then kernel (i, f, c, o), recurrent kernel, bias (+1 on f), output.
    expect(Array.from(weights)).toEqual([1, 0, 11, 13, 12, 14, 21, 23, 22, 24, 0.1, Math.fround(1.3), 0.2, 0.4, 5, 6, 7, 8].map(Math.fround));
  });
});

// wasm: tfjs-layers trains there in seconds, on cpu in minutes.
describe("decodeLayersModel", () => {
  beforeAll(() => useBackend("wasm"));

  it("imports a tf.layers model trained with model.fit to the accuracy tfjs-layers reports", async () => {
    const train = slice(mnist.train, 500);
    const test = slice(mnist.test, 1000);
    const tensors = (split: MnistSplit) => {
      const [batch] = orderedBatches(split, split.count);
      if (batch === undefined) throw new Error("empty split");
      return { x: tf.tensor3d(batch.images, [batch.size, 28, 28]), y: tf.tensor2d(batch.oneHot, [batch.size, 10]) };
    };
    // Seeded initializers and no shuffling, so that the run (and the accuracy it reaches) is the same every time.
    const glorot = (seed: number) => tfl.initializers.glorotUniform({ seed });
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ units: 16, inputShape: [28, 28], kernelInitializer: glorot(1) }),
        tfl.layers.lstm({ units: 16, recurrentActivation: "sigmoid", kernelInitializer: glorot(2), recurrentInitializer: glorot(3) }),
        tfl.layers.dense({ units: 10, activation: "softmax", kernelInitializer: glorot(4) }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.01), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
    const { x, y } = tensors(train);
    await model.fit(x, y, { epochs: 3, batchSize: 50, verbose: 0, shuffle: false });
    const testTensors = tensors(test);
    const [, accuracy] = model.evaluate(testTensors.x, testTensors.y, { batchSize: 500 }) as tf.Scalar[];
    const reported = (await (accuracy as tf.Scalar).data())[0] ?? Number.NaN;

    const saved = await savedByLayers(model);
    const decoded = decodeLayers(saved.modelJson, saved.weights);
    expect(decoded.config).toMatchObject({ cell: "lstm", inputSize: 28, steps: 28, hiddenSize: 16, layers: 1, classes: 10, forgetBias: 0 });
    const ours = classifierOf(decoded);
    const [comparison] = await compare([ours], model, test);
    if (comparison === undefined) throw new Error("no comparison");
    console.log(`tf.layers model: tfjs-layers reports ${reported}, ours ${comparison.oursCorrect / test.count}, max |difference| ${comparison.maxDifference.toExponential(2)}`);
    expect(comparison.oursCorrect / test.count).toBeCloseTo(reported, 6);
    expect(comparison.maxDifference).toBeLessThan(1e-5);
    expect(reported).toBeGreaterThan(0.3);
    ours.dispose();
    model.dispose();
    tf.dispose([x, y, testTensors.x, testTensors.y, accuracy as tf.Scalar]);
  }, 180_000);

  it("imports a functional tf.layers model with stacked GRUs", async () => {
    const input = tfl.input({ shape: [28, 28] });
    const projected = tfl.layers.dense({ units: 12 }).apply(input);
    const first = tfl.layers.gru({ units: 12, recurrentActivation: "sigmoid", returnSequences: true }).apply(projected);
    const second = tfl.layers.gru({ units: 12, recurrentActivation: "sigmoid" }).apply(first);
    const output = tfl.layers.dense({ units: 10, activation: "softmax" }).apply(second) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: output });
    // tfjs-layers starts biases at zero; random ones check where each bias goes.
    const uniform = seededUniform(4);
    model.setWeights(model.getWeights().map((w) => tf.tensor(randomValues(w.size, uniform, 0.6), w.shape)));
    const saved = await savedByLayers(model);
    const decoded = decodeLayers(saved.modelJson, saved.weights);
    expect(decoded.config).toMatchObject({ cell: "gru", hiddenSize: 12, layers: 2 });
    const ours = classifierOf(decoded);
    const [comparison] = await compare([ours], model, slice(mnist.test, 1000));
    if (comparison === undefined) throw new Error("no comparison");
    expect(comparison.maxDifference).toBeLessThan(1e-5);
    expect(comparison.oursCorrect).toBe(comparison.theirsCorrect);
    ours.dispose();
    model.dispose();
  }, 120_000);

  it("reads tensorflowjs_converter's layout: model_config and layer/cell/weight names", () => {
    const decoded = randomModel({ hiddenSize: 4, inputSize: 3, steps: 2 }, 5);
    const { modelJson, weights } = encodeLayers(decoded);
    const converted = {
      ...modelJson,
      modelTopology: { keras_version: "2.15.0", backend: "tensorflow", model_config: modelJson.modelTopology },
      weightsManifest: [{ paths: ["group1-shard1of1.bin"], weights: weightSpecs(modelJson).map((spec) => ({ ...spec, name: spec.name.replace("lstm_layer_1/", "lstm_layer_1/lstm_cell/") })) }],
    };
    expect(decodeLayers(converted, weights)).toEqual(decodeLayers(modelJson, weights));
  });
});

describe("decodeLayersModel rejects what it cannot represent", () => {
  beforeAll(() => useBackend("cpu"));

  const valid = () => encodeLayers(randomModel({ hiddenSize: 4, inputSize: 3, steps: 2, layers: 2 }, 8));
  type Json = ReturnType<typeof valid>["modelJson"];
  const layer = (json: Json, k: number) => json.modelTopology.config.layers[k]?.config as Record<string, unknown>;

  /** The error of one bad model.json read as readModel reads files: a ModelFormatError on one line. */
  async function errorOf(modelJson: unknown, weights: ArrayBuffer): Promise<ModelFormatError> {
    const files = new Map([
      ["model.json", new TextEncoder().encode(JSON.stringify(modelJson))],
      ...((modelJson as LayersModelJson).weightsManifest?.[0]?.paths ?? []).map((path): [string, Uint8Array] => [path, new Uint8Array(weights)]),
    ]);
    const read = async (name: string) => files.get(name) ?? new Uint8Array(0);
    const error = await readModel(read, { describe: (name) => `exported/${name}` }).then(
      (model) => {
        model.dispose();
        throw new Error("readModel accepted a model it cannot represent");
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelFormatError);
    expect((error as Error).message).not.toContain("\n");
    return error as ModelFormatError;
  }

  const cases: [string, (json: Json) => ArrayBuffer | void, RegExp][] = [
    ["another format", (json) => void ((json as { format: string }).format = "graph-model"), /format: expected "mnist-rnn\/sequence-classifier" or "layers-model", found "graph-model"/],
    ["go_backwards", (json) => void (layer(json, 2).go_backwards = true), /layers\[2\] \(lstm_layer_2\)\.config\.go_backwards: expected false, found true/],
    ["a hard-sigmoid recurrent activation", (json) => void (layer(json, 1).recurrent_activation = "hard_sigmoid"), /layers\[1\] \(lstm_layer_1\)\.config\.recurrent_activation: expected "sigmoid", found "hard_sigmoid"/],
    ["an input projection with an activation", (json) => void (layer(json, 0).activation = "relu"), /layers\[0\] \(input_projection\)\.config\.activation: expected "linear"/],
    ["a logits output", (json) => void (layer(json, 3).activation = "linear"), /layers\[3\] \(classifier\)\.config\.activation: expected "softmax"/],
    ["a last layer that returns sequences", (json) => void (layer(json, 2).return_sequences = true), /layers\[2\] \(lstm_layer_2\)\.config\.return_sequences: expected false/],
    ["layers of different widths", (json) => void (layer(json, 2).units = 5), /layers\[2\] \(lstm_layer_2\)\.config\.units: expected 4/],
    ["a stateful layer", (json) => void (layer(json, 1).stateful = true), /layers\[1\] \(lstm_layer_1\)\.config\.stateful: expected false, found true/],
    ["unknown steps", (json) => void (layer(json, 0).batch_input_shape = [null, null, 3]), /layers\[0\] \(input_projection\)\.config\.batch_input_shape: expected \[null, steps, inputSize\]/],
    [
      "a Masking layer",
      (json) => void json.modelTopology.config.layers.splice(1, 0, { class_name: "Masking", config: { name: "masking", mask_value: 0 } }),
      /layers\[1\] \(masking\)\.class_name: expected LSTM or GRU, found "Masking"/,
    ],
    ["a GRU with reset_after", (json) => void ((json.modelTopology.config.layers[1] as { class_name: string }).class_name = "GRU"), /layers\[1\] \(lstm_layer_1\)\.config\.reset_after: expected false, found nothing/],
    ["a model without an output layer", (json) => void json.modelTopology.config.layers.splice(3, 1), /layers\[2\] \(lstm_layer_2\)\.class_name: expected Dense \(the classes, softmax\), found "LSTM"/],
    ["too few layers", (json) => void json.modelTopology.config.layers.splice(1, 2), /modelTopology\.config\.layers: expected Dense, one or more LSTM or GRU layers, Dense: at least 3 layers, found 2\./],
    ["a Bidirectional wrapper", (json) => void ((json.modelTopology.config.layers[2] as { class_name: string }).class_name = "Bidirectional"), /layers\[2\] \(lstm_layer_2\)\.class_name: expected LSTM \(every recurrent layer has the same cell\), found "Bidirectional"/],
    ["a transposed kernel", (json) => void ((weightSpecs(json)[2] as { shape: number[] }).shape = [16, 4]), /weightsManifest\[0\]\.weights\[2\]\.shape: expected \[4, 16\] for lstm_layer_1\/kernel, found \[16,4\]/],
    ["a quantized weight", (json) => void ((weightSpecs(json)[0] as { quantization?: object }).quantization = { dtype: "uint8", scale: 1, min: 0 }), /weights\[0\]\.quantization: expected none/],
    ["a renamed weight", (json) => void ((weightSpecs(json)[3] as { name: string }).name = "lstm_layer_1/recurrent"), /weightsManifest \(layer lstm_layer_1\): expected a weight "lstm_layer_1\/recurrent_kernel" \[4, 16\], found none\./],
  ];

  it.each(cases)("names the field for %s", async (_, change, message) => {
    const { modelJson, weights } = valid();
    const json = structuredClone(modelJson);
    change(json);
    expect((await errorOf(json, weights)).message).toMatch(message);
  });

  it("names a missing weight", async () => {
    const { modelJson, weights } = valid();
    const json = structuredClone(modelJson);
    const specs = json.weightsManifest[0]?.weights ?? [];
    const at = specs.findIndex((spec) => spec.name === "lstm_layer_2/recurrent_kernel");
    const before = specs.slice(0, at).reduce((sum, spec) => sum + spec.shape.reduce((a, b) => a * b, 1), 0);
    specs.splice(at, 1);
    const kept = new Uint8Array(weights.byteLength - 4 * 4 * 16);
    kept.set(new Uint8Array(weights, 0, before * 4));
    kept.set(new Uint8Array(weights, (before + 64) * 4), before * 4);
    expect((await errorOf(json, kept.buffer)).message).toMatch(/exported\/model\.json: bad weightsManifest \(layer lstm_layer_2\): expected a weight "lstm_layer_2\/recurrent_kernel" \[4, 16\], found none/);
  });

  it("names a weights file that does not match the manifest", async () => {
    const { modelJson, weights } = valid();
    expect((await errorOf(modelJson, weights.slice(0, 100))).message).toMatch(/^exported\/weights\.bin: bad \(byte length\): expected \d+ bytes/);
  });

  it("names the first layer of a tf.layers model with a Conv layer", async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv1d({ filters: 4, kernelSize: 3, inputShape: [28, 28] }),
        tfl.layers.lstm({ units: 4, recurrentActivation: "sigmoid" }),
        tfl.layers.dense({ units: 10, activation: "softmax" }),
      ],
    });
    const saved = await savedByLayers(model);
    const name = model.layers[0]?.name ?? "";
    expect((await errorOf(saved.modelJson, saved.weights)).message).toContain(`modelTopology.config.layers[0] (${name}).class_name: expected Dense (the input projection applied to every step), found "Conv1D"`);
    model.dispose();
  });

  it("names the recurrent activation of a tf.layers LSTM left at its hard-sigmoid default", async () => {
    const model = tfl.sequential({
      layers: [tfl.layers.dense({ units: 4, inputShape: [2, 3] }), tfl.layers.lstm({ units: 4 }), tfl.layers.dense({ units: 10, activation: "softmax" })],
    });
    const saved = await savedByLayers(model);
    expect((await errorOf(saved.modelJson, saved.weights)).message).toMatch(/layers\[1\] \([^)]*\)\.config\.recurrent_activation: expected "sigmoid", found "hard_sigmoid"/);
    model.dispose();
  });
});
