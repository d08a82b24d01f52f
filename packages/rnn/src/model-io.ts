import { ModelFormatError, ModelTooLargeError } from "./errors.js";
import { decodeLayersModel, encodeLayersModel, LAYERS_MODEL_FORMAT, type ExpectedInput } from "./layers-format.js";
import { decodeMnistRnnModel, encodeMnistRnnModel, MODEL_FORMAT } from "./mnist-rnn-format.js";
import { SequenceClassifier } from "./sequence-classifier.js";
import type { ModelSnapshot } from "./snapshot.js";
import { declaredWeightBytes, describeValue, isObject, manifestPaths, type EncodedModel, type FileSources } from "./weights-manifest.js";

/** The file every saved model is found by; it names the weight files. */
export const MODEL_JSON = "model.json";
/** The weights file our writers name in model.json. */
export const WEIGHTS_FILE = "weights.bin";

/**
 * Largest model a reader accepts by default: the weights model.json declares, and each file.
 * The tutorial's model is 0.6 MB and a 4-layer 1024-unit one 134 MB; a file declaring more is
 * refused before anything is read or allocated (raise it with `maxBytes`).
 */
export const DEFAULT_MAX_MODEL_BYTES = 256 * 2 ** 20;

/**
 * Model file formats: ours (the cell's own weight layout, config and metadata as they are), and
 * TensorFlow.js's Layers format (a Keras topology that tf.loadLayersModel reads and
 * tensorflowjs_converter turns into Keras). readModel reads either.
 */
export type ModelFileFormat = "mnist-rnn" | "tfjs-layers";

/** Gives the bytes of one file of a saved model by its name in model.json ("model.json", "weights.bin"). */
export type ReadModelFile = (name: string) => Promise<Uint8Array>;
/** Stores one file of a model; the weights come before model.json, so model.json appearing means the model is whole. */
export type WriteModelFile = (name: string, bytes: Uint8Array) => Promise<void>;

export interface ReadModelOptions {
  /** Names a file in messages, e.g. its path; default the name itself. */
  describe?: (name: string) => string;
  /** Largest weights (as declared in model.json) and largest file accepted; default DEFAULT_MAX_MODEL_BYTES. */
  maxBytes?: number;
}

export interface WriteModelOptions {
  /** Default "mnist-rnn". */
  format?: ModelFileFormat;
  /** "tfjs-layers" only: what its users must feed the model (a Layers model cannot reorder pixels), stored in its metadata. */
  expectedInput?: ExpectedInput;
}

/**
 * A model from its files, whatever stores them (a folder, a browser's chosen files, memory):
 * model.json first, checked against `maxBytes` with the weights it declares before they are
 * read, then the weight files it lists; every weight must be a finite number.
 */
export async function readModel(read: ReadModelFile, options: ReadModelOptions = {}): Promise<SequenceClassifier> {
  return SequenceClassifier.fromSnapshot(await readSnapshot(read, options));
}

/** Writes the model's files through `write`: the weights first, model.json last. */
export async function writeModel(model: SequenceClassifier, write: WriteModelFile, options: WriteModelOptions = {}): Promise<void> {
  const { modelJson, weights } = encodeSnapshot(await model.snapshot(), options);
  // Host byte order, as the reader assumes: little-endian on every platform TensorFlow.js runs on.
  await write(WEIGHTS_FILE, new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength));
  await write(MODEL_JSON, new TextEncoder().encode(`${JSON.stringify(modelJson, null, 2)}\n`));
}

function encodeSnapshot(snapshot: ModelSnapshot, { format = "mnist-rnn", expectedInput }: WriteModelOptions): EncodedModel {
  switch (format) {
    case "mnist-rnn":
      return encodeMnistRnnModel(snapshot, WEIGHTS_FILE);
    case "tfjs-layers":
      return encodeLayersModel(snapshot, WEIGHTS_FILE, expectedInput === undefined ? {} : { expectedInput });
  }
}

async function readSnapshot(read: ReadModelFile, options: ReadModelOptions): Promise<ModelSnapshot> {
  const describe = options.describe ?? ((name: string) => name);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MODEL_BYTES;
  const modelJsonFile = describe(MODEL_JSON);
  const modelJson = parseModelJson(checkSize(await read(MODEL_JSON), modelJsonFile, maxBytes), modelJsonFile);
  const paths = manifestPaths(modelJson, modelJsonFile);
  const declared = declaredWeightBytes(modelJson, modelJsonFile);
  if (declared > maxBytes) {
    throw new ModelTooLargeError(modelJsonFile, "weightsManifest", declared, maxBytes);
  }
  const shards: Uint8Array[] = [];
  for (const path of paths) shards.push(checkSize(await read(path), describe(path), maxBytes));
  const sources: FileSources = { modelJson: modelJsonFile, weights: paths.map(describe).join(" + ") };
  const snapshot = decodeSnapshot(modelJson, concatenate(shards), sources);
  checkFinite(snapshot, sources.weights);
  return snapshot;
}

function decodeSnapshot(modelJson: Record<string, unknown>, weights: ArrayBuffer, sources: FileSources): ModelSnapshot {
  if (modelJson.format === MODEL_FORMAT) return decodeMnistRnnModel(modelJson, weights, sources);
  // tensorflowjs_converter's older outputs carry a Keras topology without the format tag.
  if (modelJson.format === LAYERS_MODEL_FORMAT || (modelJson.format === undefined && modelJson.modelTopology !== undefined)) {
    return decodeLayersModel(modelJson, weights, sources);
  }
  throw new ModelFormatError(sources.modelJson, "format", `${JSON.stringify(MODEL_FORMAT)} or ${JSON.stringify(LAYERS_MODEL_FORMAT)}`, describeValue(modelJson.format));
}

function parseModelJson(bytes: Uint8Array, file: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    const reason = error instanceof SyntaxError ? error.message : "bytes that are not UTF-8 text";
    throw new ModelFormatError(file, "(JSON syntax)", "a JSON object", describeValue(reason));
  }
  if (!isObject(json)) throw new ModelFormatError(file, "(top level)", "a JSON object", describeValue(json));
  return json;
}

function checkSize(bytes: Uint8Array, file: string, maxBytes: number): Uint8Array {
  if (bytes.byteLength > maxBytes) {
    throw new ModelTooLargeError(file, "(file size)", bytes.byteLength, maxBytes);
  }
  return bytes;
}

/** A model holding NaN or an infinity would predict NaN without a word: refuse it when read. */
function checkFinite(snapshot: ModelSnapshot, file: string): void {
  for (const [name, values] of snapshot.values) {
    const index = values.findIndex((value) => !Number.isFinite(value));
    if (index >= 0) {
      throw new ModelFormatError(file, `${name}[${index}]`, "a finite number", String(values[index]), "the model diverged before it was saved; train it again, or use an earlier checkpoint");
    }
  }
}

function concatenate(shards: readonly Uint8Array[]): ArrayBuffer {
  const joined = new Uint8Array(shards.reduce((sum, shard) => sum + shard.byteLength, 0));
  let offset = 0;
  for (const shard of shards) {
    joined.set(shard, offset);
    offset += shard.byteLength;
  }
  return joined.buffer;
}
