import { resolveModelConfig, type CellType, type ModelConfig } from "./config.js";
import { ModelFormatError } from "./errors.js";
import { copyMetadata, type ModelMetadata } from "./metadata.js";
import { layerPrefix, parameterSpecs } from "./parameters.js";
import type { ModelSnapshot } from "./snapshot.js";
import {
  describeValue,
  elementCount,
  isObject,
  listedWeights,
  metadataFromModelJson,
  packWeights,
  type EncodedModel,
  type FileSources,
  type ListedWeight,
  type NamedWeight,
  type WeightSpec,
} from "./weights-manifest.js";

/** Value of a TensorFlow.js Layers model.json's "format" field. */
export const LAYERS_MODEL_FORMAT = "layers-model";

// Names unlike our variables' ("input/kernel", "lstm/kernel", "output/kernel"): tfjs-layers names
// its engine variables after its layers, and an engine holds one variable per name, so a
// SequenceClassifier and its export can then be loaded side by side.
const INPUT_LAYER = "input_projection";
const OUTPUT_LAYER = "classifier";
const recurrentLayerName = (cell: CellType, layer: number): string => `${cell}_layer_${layer}`;
const HINT =
  "the model must be a Dense (linear, applied to every step) -> LSTM or GRU layers (same units, recurrent_activation sigmoid) -> Dense (softmax) chain; see the @mnist/rnn README";

/** What a Layers-model user must feed an exported model: stored as userDefinedMetadata.expectedInput. */
export interface ExpectedInput {
  /** In words: what each step holds and how pixels are scaled. */
  description: string;
  /**
   * For models trained on permuted pixels: value k of an input sequence (its steps * inputSize values
   * in order) is pixel pixelOrder[k] of the row-major image. A Layers model cannot permute by itself.
   */
  pixelOrder?: readonly number[];
}

/** model.json of a TensorFlow.js Layers model (what tf.loadLayersModel reads). */
export interface LayersModelJson {
  format: typeof LAYERS_MODEL_FORMAT;
  generatedBy: string;
  convertedBy: string;
  modelTopology: { class_name: "Sequential"; config: { name: string; layers: KerasLayer[] }; keras_version: string; backend: string };
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
  userDefinedMetadata: ModelMetadata;
}

interface KerasLayer {
  class_name: string;
  config: Record<string, unknown>;
}

/**
 * Where one block of a cell's weights sits in our parameter (`ours`, rows from `oursRow`, columns
 * from `oursCol`) and in the Keras weight of the same layer (`keras`, columns from `kerasCol`).
 * Biases are one-row matrices. One table serves export and import.
 */
interface Block {
  ours: string;
  oursRow: number;
  oursCol: number;
  keras: "kernel" | "recurrent_kernel" | "bias";
  kerasCol: number;
  rows: number;
}

/**
 * Our LSTM gates are i, j (candidate), f, o; Keras's are i, f, c (candidate), o. Keras block k
 * holds our block LSTM_BLOCK_OF_KERAS[k].
 */
const LSTM_BLOCK_OF_KERAS = [0, 2, 1, 3] as const;
const KERAS_FORGET_BLOCK = 1;

/**
 * The blocks of one recurrent layer, each H columns wide. LSTM: the stacked kernel's input rows
 * go to `kernel`, its h rows to `recurrent_kernel`. GRU (TF1 GRUCell = Keras GRU with
 * reset_after false): Keras's z, r, h are our u (gates columns H..2H), r (gates columns 0..H)
 * and candidate; h' = z*h + (1-z)*hh is our u*h + (1-u)*c.
 */
function cellBlocks(cell: CellType, hidden: number, prefix: string): Block[] {
  const H = hidden;
  const columns =
    cell === "lstm"
      ? LSTM_BLOCK_OF_KERAS.map((ours, k) => ({ kernel: `${prefix}/kernel`, bias: `${prefix}/bias`, oursCol: ours * H, kerasCol: k * H }))
      : [
          { kernel: `${prefix}/gates/kernel`, bias: `${prefix}/gates/bias`, oursCol: H, kerasCol: 0 },
          { kernel: `${prefix}/gates/kernel`, bias: `${prefix}/gates/bias`, oursCol: 0, kerasCol: H },
          { kernel: `${prefix}/candidate/kernel`, bias: `${prefix}/candidate/bias`, oursCol: 0, kerasCol: 2 * H },
        ];
  return columns.flatMap(({ kernel, bias, oursCol, kerasCol }) => [
    { ours: kernel, oursRow: 0, oursCol, keras: "kernel", kerasCol, rows: H },
    { ours: kernel, oursRow: H, oursCol, keras: "recurrent_kernel", kerasCol, rows: H },
    { ours: bias, oursRow: 0, oursCol, keras: "bias", kerasCol, rows: 1 },
  ]);
}

/** Copies a rows x width block between two row-major matrices. */
function copyBlock(
  from: Float32Array, fromColumns: number, fromRow: number, fromCol: number,
  to: Float32Array, toColumns: number, toRow: number, toCol: number,
  rows: number, width: number,
): void {
  for (let r = 0; r < rows; r++) {
    const start = (fromRow + r) * fromColumns + fromCol;
    to.set(from.subarray(start, start + width), (toRow + r) * toColumns + toCol);
  }
}

function gateCount(cell: CellType): number {
  return cell === "lstm" ? 4 : 3;
}

function kerasShapes(cell: CellType, hidden: number): Record<Block["keras"], number[]> {
  const width = gateCount(cell) * hidden;
  return { kernel: [hidden, width], recurrent_kernel: [hidden, width], bias: [width] };
}

function columnsOf(shape: readonly number[]): number {
  return shape.length === 1 ? (shape[0] ?? 0) : (shape[1] ?? 0);
}

/**
 * The model as a TensorFlow.js Layers model: a Sequential of Dense (the input projection, applied
 * to the last axis of [batch, steps, inputs], as Keras's Dense does on a 3-D input), one LSTM or
 * GRU per layer (all but the last returning sequences) and Dense(classes, softmax). The LSTM's
 * forget bias is folded into the f block of `bias`, since Keras adds none at run time, and an
 * output bias "in-weights" into the output kernel (foldedOutput).
 */
export function encodeLayersModel(
  { config, values, metadata }: ModelSnapshot,
  weightsFile: string,
  options: { expectedInput?: ExpectedInput } = {},
): EncodedModel {
  const { cell, hiddenSize: H, steps, inputSize, classes } = config;
  const value = (name: string): Float32Array => {
    const found = values.get(name);
    if (found === undefined) throw new Error(`internal: parameter ${name} is missing`);
    return found;
  };
  const weights: NamedWeight[] = [];
  const add = (name: string, shape: number[], data: Float32Array): void => {
    weights.push({ name, shape, values: data });
  };

  const layers: KerasLayer[] = [denseLayer(INPUT_LAYER, H, "linear", config.denseInit, [null, steps, inputSize])];
  add(`${INPUT_LAYER}/kernel`, [inputSize, H], value("input/kernel"));
  add(`${INPUT_LAYER}/bias`, [H], value("input/bias"));
  const shapes = kerasShapes(cell, H);
  const specs = new Map(parameterSpecs(config).map((spec) => [spec.name, spec.shape]));
  for (let layer = 1; layer <= config.layers; layer++) {
    const name = recurrentLayerName(cell, layer);
    layers.push(recurrentLayer(config, name, layer < config.layers));
    const kerasValues = {
      kernel: new Float32Array(elementCount(shapes.kernel)),
      recurrent_kernel: new Float32Array(elementCount(shapes.recurrent_kernel)),
      bias: new Float32Array(elementCount(shapes.bias)),
    };
    for (const block of cellBlocks(cell, H, layerPrefix(cell, layer))) {
      const oursColumns = columnsOf(specs.get(block.ours) ?? []);
      copyBlock(value(block.ours), oursColumns, block.oursRow, block.oursCol, kerasValues[block.keras], columnsOf(shapes[block.keras]), 0, block.kerasCol, block.rows, H);
    }
    if (cell === "lstm") {
      const forget = kerasValues.bias.subarray(KERAS_FORGET_BLOCK * H, (KERAS_FORGET_BLOCK + 1) * H);
      for (let k = 0; k < H; k++) forget[k] = (forget[k] ?? 0) + config.forgetBias;
    }
    for (const weight of ["kernel", "recurrent_kernel", "bias"] as const) add(`${name}/${weight}`, shapes[weight], kerasValues[weight]);
  }
  layers.push(denseLayer(OUTPUT_LAYER, classes, "softmax", config.denseInit));
  const output = foldedOutput(value("output/kernel"), value("output/bias"), config);
  add(`${OUTPUT_LAYER}/kernel`, [H, classes], output.kernel);
  add(`${OUTPUT_LAYER}/bias`, [classes], output.bias);

  const { weightsManifest, data } = packWeights(weights, weightsFile);
  const expectedInput = {
    shape: [null, steps, inputSize],
    dtype: "float32",
    ...(options.expectedInput === undefined ? {} : { description: options.expectedInput.description }),
    ...(options.expectedInput?.pixelOrder === undefined ? {} : { pixelOrder: [...options.expectedInput.pixelOrder] }),
  };
  const modelJson: LayersModelJson = {
    format: LAYERS_MODEL_FORMAT,
    generatedBy: "@mnist/rnn SequenceClassifier",
    convertedBy: "@mnist/rnn writeModel",
    modelTopology: {
      class_name: "Sequential",
      config: { name: "sequence_classifier", layers },
      keras_version: "tfjs-layers 4.22.0",
      backend: "tensor_flow.js",
    },
    weightsManifest,
    userDefinedMetadata: copyMetadata({ ...metadata, expectedInput }),
  };
  return { modelJson: { ...modelJson }, weights: data };
}

/**
 * The output layer as Keras computes it (h*W + b): with outputBias "in-weights" our logits are
 * h*(W + 1 b^T), so the kernel is W + 1 b^T (b added to every row) and the bias zero.
 */
function foldedOutput(kernel: Float32Array, bias: Float32Array, config: ModelConfig): { kernel: Float32Array; bias: Float32Array } {
  if (config.outputBias === "added") return { kernel, bias };
  const classes = bias.length;
  return { kernel: kernel.map((w, k) => w + (bias[k % classes] ?? 0)), bias: new Float32Array(classes) };
}

const GLOROT_UNIFORM = { class_name: "GlorotUniform", config: { seed: null } };
const ZEROS = { class_name: "Zeros", config: {} };
const STANDARD_NORMAL = { class_name: "RandomNormal", config: { mean: 0, stddev: 1, seed: null } };

function denseLayer(name: string, units: number, activation: string, init: ModelConfig["denseInit"], batchInputShape?: (number | null)[]): KerasLayer {
  return {
    class_name: "Dense",
    config: {
      name,
      trainable: true,
      dtype: "float32",
      ...(batchInputShape === undefined ? {} : { batch_input_shape: batchInputShape }),
      units,
      activation,
      use_bias: true,
      kernel_initializer: init === "normal" ? STANDARD_NORMAL : GLOROT_UNIFORM,
      bias_initializer: init === "normal" ? STANDARD_NORMAL : ZEROS,
      kernel_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
    },
  };
}

function recurrentLayer(config: ModelConfig, name: string, returnSequences: boolean): KerasLayer {
  const lstm = config.cell === "lstm";
  return {
    class_name: lstm ? "LSTM" : "GRU",
    config: {
      name,
      trainable: true,
      dtype: "float32",
      units: config.hiddenSize,
      activation: "tanh",
      recurrent_activation: "sigmoid",
      use_bias: true,
      kernel_initializer: GLOROT_UNIFORM,
      recurrent_initializer: config.recurrentInit === "orthogonal" ? { class_name: "Orthogonal", config: { gain: 1, seed: null } } : GLOROT_UNIFORM,
      bias_initializer: ZEROS,
      ...(lstm ? { unit_forget_bias: true } : { reset_after: false }),
      kernel_regularizer: null,
      recurrent_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      recurrent_constraint: null,
      bias_constraint: null,
      dropout: 0,
      recurrent_dropout: 0,
      implementation: 2,
      return_sequences: returnSequences,
      return_state: false,
      go_backwards: false,
      stateful: false,
      unroll: false,
    },
  };
}

/** One layer of the topology, with the path that names it in error messages. */
interface TopologyLayer {
  path: string;
  name: string;
  className: unknown;
  config: Record<string, unknown>;
}

/**
 * Reads a TensorFlow.js Layers model.json (as tfjs-layers' model.save or tensorflowjs_converter
 * write it) whose topology is Dense -> LSTM/GRU x n -> Dense(softmax): a Sequential, or a
 * functional Model whose layers form that chain. The imported model has forgetBias 0 (the Keras
 * bias already holds it). Anything else throws ModelFormatError naming the layer and the field.
 */
export function decodeLayersModel(modelJson: Record<string, unknown>, weights: ArrayBuffer, sources: FileSources): ModelSnapshot {
  const fail = (field: string, expected: string, actual: unknown): never => {
    throw new ModelFormatError(sources.modelJson, field, expected, describeValue(actual), HINT);
  };
  const { layers, path } = topologyLayers(modelJson.modelTopology, fail);

  const [first] = layers;
  const inputLayer = first?.className === "InputLayer" ? first : undefined;
  const body = inputLayer === undefined ? layers : layers.slice(1);
  if (body.length < 3) {
    fail(path, "Dense, one or more LSTM or GRU layers, Dense: at least 3 layers", body.length);
  }
  const projection = body[0] as TopologyLayer;
  const output = body[body.length - 1] as TopologyLayer;
  const recurrent = body.slice(1, -1);

  checkClass(projection, ["Dense"], "Dense (the input projection applied to every step)", fail);
  checkClass(output, ["Dense"], "Dense (the classes, softmax)", fail);
  const shape = readInputShape(inputLayer ?? projection, fail);
  const hidden = readUnits(projection, fail);
  checkValue(projection, "activation", "linear", fail);
  checkDenseFields(projection, fail);

  const firstRecurrent = recurrent[0] as TopologyLayer;
  checkClass(firstRecurrent, ["LSTM", "GRU"], "LSTM or GRU", fail);
  const cell: CellType = firstRecurrent.className === "LSTM" ? "lstm" : "gru";
  recurrent.forEach((layer, k) => {
    checkClass(layer, [firstRecurrent.className as string], `${String(firstRecurrent.className)} (every recurrent layer has the same cell)`, fail);
    checkRecurrent(layer, cell, hidden, k === recurrent.length - 1, fail);
  });

  const classes = readUnits(output, fail);
  checkValue(output, "activation", "softmax", fail);
  checkDenseFields(output, fail);

  const config = resolveModelConfig({
    cell,
    inputSize: shape.inputSize,
    steps: shape.steps,
    hiddenSize: hidden,
    layers: recurrent.length,
    classes,
    forgetBias: 0,
  });
  const manifest = layerWeights(listedWeights(modelJson, weights, sources), sources, fail);
  const values = new Map<string, Float32Array>();
  values.set("input/kernel", manifest.take(projection.name, "kernel", [shape.inputSize, hidden]));
  values.set("input/bias", manifest.take(projection.name, "bias", [hidden]));
  const specs = new Map(parameterSpecs(config).map((spec) => [spec.name, spec.shape]));
  const kerasShape = kerasShapes(cell, hidden);
  recurrent.forEach((layer, k) => {
    const prefix = layerPrefix(cell, k + 1);
    const keras = {
      kernel: manifest.take(layer.name, "kernel", kerasShape.kernel),
      recurrent_kernel: manifest.take(layer.name, "recurrent_kernel", kerasShape.recurrent_kernel),
      bias: manifest.take(layer.name, "bias", kerasShape.bias),
    };
    for (const block of cellBlocks(cell, hidden, prefix)) {
      const oursShape = specs.get(block.ours) ?? [];
      if (!values.has(block.ours)) values.set(block.ours, new Float32Array(elementCount(oursShape)));
      const ours = values.get(block.ours) as Float32Array;
      copyBlock(keras[block.keras], columnsOf(kerasShape[block.keras]), 0, block.kerasCol, ours, columnsOf(oursShape), block.oursRow, block.oursCol, block.rows, hidden);
    }
  });
  values.set("output/kernel", manifest.take(output.name, "kernel", [hidden, classes]));
  values.set("output/bias", manifest.take(output.name, "bias", [classes]));
  manifest.checkAllUsed();
  return { config, values, metadata: modelJson.userDefinedMetadata === undefined ? {} : metadataFromModelJson(modelJson.userDefinedMetadata, sources.modelJson, HINT) };
}

type Fail = (field: string, expected: string, actual: unknown) => never;

/**
 * The layers of a Sequential, or of a functional Model that is a single chain, in order, and the
 * path of their list. tensorflowjs_converter nests the topology in "model_config".
 */
function topologyLayers(rawTopology: unknown, fail: Fail): { layers: TopologyLayer[]; path: string } {
  if (!isObject(rawTopology)) return fail("modelTopology", "an object (the Keras model config)", rawTopology);
  const nested = rawTopology.model_config !== undefined;
  const top = nested ? "modelTopology.model_config" : "modelTopology";
  const topology = nested ? rawTopology.model_config : rawTopology;
  if (!isObject(topology)) return fail(top, "an object with class_name and config", topology);
  const className = topology.class_name;
  if (className !== "Sequential" && className !== "Model" && className !== "Functional") {
    return fail(`${top}.class_name`, '"Sequential", or "Model" (a chain of layers)', className);
  }
  const config = topology.config;
  // Keras before 2.2.3 wrote a Sequential's config as the bare list of layers.
  const rawLayers = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
  const listPath = Array.isArray(config) ? `${top}.config` : `${top}.config.layers`;
  if (!Array.isArray(rawLayers)) return fail(listPath, "an array of layers", rawLayers);
  const layers = rawLayers.map((raw: unknown, k): TopologyLayer => {
    const at = `${listPath}[${k}]`;
    if (!isObject(raw)) return fail(at, "an object with class_name and config", raw);
    if (!isObject(raw.config)) return fail(`${at}.config`, "an object (the layer's config)", raw.config);
    const name = raw.config.name ?? raw.name;
    if (typeof name !== "string") return fail(`${at}.config.name`, "the layer's name", name);
    return { path: `${at} (${name})`, name, className: raw.class_name, config: raw.config };
  });
  if (className !== "Sequential") checkChain(rawLayers as Record<string, unknown>[], layers, fail);
  return { layers, path: listPath };
}

/** A functional model must be Input -> layer -> layer ...: each layer called once on the one before. */
function checkChain(rawLayers: Record<string, unknown>[], layers: TopologyLayer[], fail: Fail): void {
  layers.forEach((layer, k) => {
    const inbound = rawLayers[k]?.inbound_nodes;
    if (k === 0) {
      if (layer.className !== "InputLayer") fail(`${layer.path}.class_name`, '"InputLayer" (a functional model starts with its Input)', layer.className);
      return;
    }
    const previous = (layers[k - 1] as TopologyLayer).name;
    const node = Array.isArray(inbound) && inbound.length === 1 ? inbound[0] : undefined;
    const source = Array.isArray(node) && node.length === 1 && Array.isArray(node[0]) ? node[0][0] : undefined;
    if (source !== previous) fail(`${layer.path}.inbound_nodes`, `one call on the previous layer: [[["${previous}", 0, 0, {}]]]`, inbound);
  });
}

function checkClass(layer: TopologyLayer, allowed: string[], expected: string, fail: Fail): void {
  if (!allowed.includes(layer.className as string)) fail(`${layer.path}.class_name`, expected, layer.className);
}

function checkValue(layer: TopologyLayer, field: string, expected: unknown, fail: Fail, absentOk = false): void {
  const value = layer.config[field];
  if (absentOk && (value === undefined || value === null)) return;
  if (value !== expected) fail(`${layer.path}.config.${field}`, JSON.stringify(expected), value);
}

function readUnits(layer: TopologyLayer, fail: Fail): number {
  const units = layer.config.units;
  if (!Number.isInteger(units) || (units as number) < 1) fail(`${layer.path}.config.units`, "a positive integer", units);
  return units as number;
}

function checkDenseFields(layer: TopologyLayer, fail: Fail): void {
  checkValue(layer, "use_bias", true, fail, true);
  checkValue(layer, "dtype", "float32", fail, true);
}

/** [null, steps, inputSize] from an InputLayer's or the first layer's batch_input_shape (Keras 3: batch_shape). */
function readInputShape(layer: TopologyLayer, fail: Fail): { steps: number; inputSize: number } {
  const field = layer.config.batch_input_shape !== undefined ? "batch_input_shape" : "batch_shape";
  const shape = layer.config[field];
  const known = (size: unknown): size is number => Number.isInteger(size) && (size as number) >= 1;
  if (!Array.isArray(shape) || shape.length !== 3 || !known(shape[1]) || !known(shape[2])) {
    return fail(`${layer.path}.config.${field}`, "[null, steps, inputSize] with steps and inputSize known", shape);
  }
  return { steps: shape[1], inputSize: shape[2] };
}

function checkRecurrent(layer: TopologyLayer, cell: CellType, hidden: number, last: boolean, fail: Fail): void {
  const units = readUnits(layer, fail);
  if (units !== hidden) fail(`${layer.path}.config.units`, `${hidden} (the input projection's units; every layer as wide)`, units);
  checkValue(layer, "activation", "tanh", fail, true);
  // Keras's default; tfjs-layers defaults to hard_sigmoid, so a missing field is not accepted.
  checkValue(layer, "recurrent_activation", "sigmoid", fail);
  checkValue(layer, "use_bias", true, fail, true);
  checkValue(layer, "dtype", "float32", fail, true);
  checkValue(layer, "return_sequences", !last, fail, last);
  for (const field of ["return_state", "go_backwards", "stateful", "time_major"]) checkValue(layer, field, false, fail, true);
  if (cell === "gru") checkValue(layer, "reset_after", false, fail);
}

/** Takes the listed weights layer by layer, so that one left over (or missing) is named. */
function layerWeights(listed: ListedWeight[], sources: FileSources, fail: Fail) {
  const used = new Set<ListedWeight>();
  return {
    /** The weight `<layer>/<weight>`, or `<layer>/<cell>/<weight>` as TensorFlow 2.2+ names it. */
    take(layer: string, weight: string, shape: number[]): Float32Array {
      const matches = listed.filter((entry) => {
        const parts = entry.name.split("/");
        return parts[0] === layer && parts[parts.length - 1] === weight && (parts.length === 2 || parts.length === 3);
      });
      const [entry] = matches;
      if (entry === undefined) {
        throw new ModelFormatError(sources.modelJson, `weightsManifest (layer ${layer})`, `a weight "${layer}/${weight}" [${shape.join(", ")}]`, "none", HINT);
      }
      if (matches.length > 1) fail(`${(matches[1] as ListedWeight).field}.name`, `one weight ${layer}/${weight}`, matches.map((m) => m.name).join(", "));
      if (entry.shape.join(",") !== shape.join(",")) fail(`${entry.field}.shape`, `[${shape.join(", ")}] for ${entry.name}`, entry.shape);
      used.add(entry);
      return entry.values;
    },
    checkAllUsed(): void {
      const unused = listed.find((entry) => !used.has(entry));
      if (unused !== undefined) fail(`${unused.field}.name`, "only weights of the model's layers", unused.name);
    },
  };
}

