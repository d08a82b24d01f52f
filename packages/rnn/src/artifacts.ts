import { DEFAULT_MODEL_CONFIG, resolveModelConfig, type ModelConfig } from "./config.js";
import { ModelConfigError, ModelFormatError, ModelMetadataError } from "./errors.js";
import { copyMetadata, type ModelMetadata } from "./metadata.js";
import { parameterSpecs } from "./parameters.js";

/** Value of model.json's "format" field, so other JSON files are rejected early. */
export const MODEL_FORMAT = "mnist-rnn/sequence-classifier";
export const MODEL_FORMAT_VERSION = 1;
export const WEIGHTS_FILE = "weights.bin";

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: "float32";
}

/**
 * ModelConfig fields added after format version 1 was first written: model.json files from
 * before them lack the field and get its default (what those models were).
 */
const FIELDS_ADDED_LATER: readonly (keyof ModelConfig)[] = ["layers", "recurrentInit"];

/** model.json: TensorFlow.js's weights-manifest layout plus our format tag, config and metadata. */
export interface ModelJson {
  format: typeof MODEL_FORMAT;
  formatVersion: typeof MODEL_FORMAT_VERSION;
  config: ModelConfig;
  /** The user's metadata; TensorFlow.js's model.json uses this name for the same purpose. */
  userDefinedMetadata: ModelMetadata;
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
}

/** What model.json and the weights describe: everything needed to rebuild the model. */
export interface DecodedModel {
  config: ModelConfig;
  values: Map<string, Float32Array>;
  metadata: ModelMetadata;
}

/** Names the two artifacts in error messages: file paths when loading from disk. */
export interface ArtifactSources {
  modelJson: string;
  weights: string;
}

export function encodeArtifacts(
  config: ModelConfig,
  values: ReadonlyMap<string, Float32Array>,
  metadata: ModelMetadata,
): { modelJson: ModelJson; weights: ArrayBuffer } {
  const specs = parameterSpecs(config);
  const total = specs.reduce((sum, spec) => sum + elementCount(spec.shape), 0);
  const data = new Float32Array(total);
  let offset = 0;
  for (const spec of specs) {
    const value = values.get(spec.name);
    if (value === undefined || value.length !== elementCount(spec.shape)) {
      throw new Error(`internal: parameter ${spec.name} is missing or has the wrong size`);
    }
    data.set(value, offset);
    offset += value.length;
  }
  const modelJson: ModelJson = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    config: { ...config },
    userDefinedMetadata: metadata,
    weightsManifest: [
      {
        paths: [WEIGHTS_FILE],
        weights: specs.map((spec) => ({ name: spec.name, shape: [...spec.shape], dtype: "float32" })),
      },
    ],
  };
  return { modelJson, weights: data.buffer };
}

/**
 * Checks model.json field by field against what this config's model needs, then slices the
 * weights. Little-endian float32, like TensorFlow.js (every platform it runs on).
 */
export function decodeArtifacts(
  modelJson: unknown,
  weights: ArrayBuffer,
  sources: ArtifactSources = { modelJson: "model.json", weights: WEIGHTS_FILE },
): DecodedModel {
  const fail = (field: string, expected: string, actual: unknown): never => {
    throw new ModelFormatError(sources.modelJson, field, expected, describe(actual));
  };
  if (!isObject(modelJson)) fail("(top level)", "a JSON object", modelJson);
  const json = modelJson as Record<string, unknown>;
  if (json.format !== MODEL_FORMAT) fail("format", JSON.stringify(MODEL_FORMAT), json.format);
  if (json.formatVersion !== MODEL_FORMAT_VERSION) {
    fail("formatVersion", String(MODEL_FORMAT_VERSION), json.formatVersion);
  }
  if (!isObject(json.config)) fail("config", "an object with the model's ModelConfig", json.config);
  const config = readConfig(json.config as Record<string, unknown>, sources.modelJson);
  const metadata = readMetadata(json.userDefinedMetadata, sources.modelJson);

  const manifest = json.weightsManifest;
  if (!Array.isArray(manifest) || manifest.length === 0) {
    fail("weightsManifest", "a non-empty array of weight groups", manifest);
  }
  const listed: { field: string; spec: Record<string, unknown> }[] = [];
  (manifest as unknown[]).forEach((group, g) => {
    if (!isObject(group)) fail(`weightsManifest[${g}]`, "an object with paths and weights", group);
    const { weights: groupWeights } = group as Record<string, unknown>;
    if (!Array.isArray(groupWeights)) fail(`weightsManifest[${g}].weights`, "an array", groupWeights);
    (groupWeights as unknown[]).forEach((spec, w) => {
      const field = `weightsManifest[${g}].weights[${w}]`;
      if (!isObject(spec)) fail(field, "an object {name, shape, dtype}", spec);
      listed.push({ field, spec: spec as Record<string, unknown> });
    });
  });

  const expectedSpecs = parameterSpecs(config);
  if (listed.length !== expectedSpecs.length) {
    fail(
      "weightsManifest[*].weights",
      `${expectedSpecs.length} weights (${expectedSpecs.map((s) => s.name).join(", ")})`,
      `${listed.length} weights`,
    );
  }
  const totalFloats = listed.reduce((sum, entry) => {
    const shape = entry.spec.shape;
    return sum + (isShape(shape) ? elementCount(shape) : 0);
  }, 0);
  if (weights.byteLength !== totalFloats * 4) {
    throw new ModelFormatError(
      sources.weights,
      "(byte length)",
      `${totalFloats * 4} bytes (${totalFloats} float32 values listed in ${sources.modelJson})`,
      `${weights.byteLength} bytes`,
      "the weights file is truncated or belongs to another model.json; save the model again",
    );
  }

  const values = new Map<string, Float32Array>();
  const byName = new Map(expectedSpecs.map((spec) => [spec.name, spec]));
  let offset = 0;
  for (const { field, spec } of listed) {
    if (typeof spec.name !== "string" || !byName.has(spec.name)) {
      fail(`${field}.name`, `one of ${[...byName.keys()].join(", ")}`, spec.name);
    }
    const name = spec.name as string;
    if (values.has(name)) fail(`${field}.name`, "each weight listed once", `${name} again`);
    const expectedShape = (byName.get(name) as { shape: number[] }).shape;
    if (!isShape(spec.shape) || spec.shape.join(",") !== expectedShape.join(",")) {
      fail(`${field}.shape`, `[${expectedShape.join(", ")}] for ${name} with this config`, spec.shape);
    }
    if (spec.dtype !== "float32") fail(`${field}.dtype`, '"float32"', spec.dtype);
    const count = elementCount(expectedShape);
    values.set(name, new Float32Array(weights.slice(offset * 4, (offset + count) * 4)));
    offset += count;
  }
  return { config, values, metadata };
}

/** userDefinedMetadata, or {} for files saved before models carried metadata. */
function readMetadata(raw: unknown, file: string): ModelMetadata {
  if (raw === undefined) return {};
  if (!isObject(raw)) throw new ModelFormatError(file, "userDefinedMetadata", "an object (the model's metadata)", describe(raw));
  try {
    return copyMetadata(raw, "userDefinedMetadata");
  } catch (error) {
    if (error instanceof ModelMetadataError) throw new ModelFormatError(file, error.field, error.expected, error.actual);
    throw error;
  }
}

function readConfig(raw: Record<string, unknown>, file: string): ModelConfig {
  for (const field of Object.keys(DEFAULT_MODEL_CONFIG) as (keyof ModelConfig)[]) {
    if (raw[field] === undefined && !FIELDS_ADDED_LATER.includes(field)) {
      throw new ModelFormatError(file, `config.${field}`, "a value (saved models list every field)", "nothing (field missing)");
    }
  }
  try {
    return resolveModelConfig(raw as Partial<ModelConfig>);
  } catch (error) {
    if (error instanceof ModelConfigError) {
      throw new ModelFormatError(file, `config.${error.field}`, error.expected, error.actual);
    }
    throw error;
  }
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, size) => product * size, 1);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isShape(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((size) => Number.isInteger(size) && size >= 0);
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing (field missing)";
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
