import { DEFAULT_MODEL_CONFIG, resolveModelConfig, type ModelConfig } from "./config.js";
import { ModelConfigError, ModelFormatError } from "./errors.js";
import type { ModelMetadata } from "./metadata.js";
import { parameterSpecs } from "./parameters.js";
import type { ModelSnapshot } from "./snapshot.js";
import { describeValue, isObject, listedWeights, metadataFromModelJson, packWeights, type EncodedModel, type FileSources, type WeightSpec } from "./weights-manifest.js";

/** Value of model.json's "format" field, so other JSON files are rejected early. */
export const MODEL_FORMAT = "mnist-rnn/sequence-classifier";
export const MODEL_FORMAT_VERSION = 1;

/** model.json: TensorFlow.js's weights-manifest layout plus our format tag, config and metadata. */
export interface ModelJson {
  format: typeof MODEL_FORMAT;
  formatVersion: typeof MODEL_FORMAT_VERSION;
  config: ModelConfig;
  /** The user's metadata; TensorFlow.js's model.json uses this name for the same purpose. */
  userDefinedMetadata: ModelMetadata;
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
}

/** The model in this project's own format: the cell's own weight layout, config and metadata as they are. */
export function encodeMnistRnnModel({ config, values, metadata }: ModelSnapshot, weightsFile: string): EncodedModel {
  const weights = parameterSpecs(config).map(({ name, shape }) => ({ name, shape, values: values.get(name) ?? new Float32Array(0) }));
  const { weightsManifest, data } = packWeights(weights, weightsFile);
  const modelJson: ModelJson = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    config: { ...config },
    userDefinedMetadata: metadata,
    weightsManifest,
  };
  return { modelJson: { ...modelJson }, weights: data };
}

/**
 * Checks model.json field by field against what this config's model needs, then slices the
 * weights (the manifest's files joined in order; little-endian float32, like TensorFlow.js).
 */
export function decodeMnistRnnModel(modelJson: Record<string, unknown>, weights: ArrayBuffer, sources: FileSources): ModelSnapshot {
  const fail = (field: string, expected: string, actual: unknown): never => {
    throw new ModelFormatError(sources.modelJson, field, expected, describeValue(actual));
  };
  const json = modelJson;
  if (json.format !== MODEL_FORMAT) fail("format", JSON.stringify(MODEL_FORMAT), json.format);
  if (json.formatVersion !== MODEL_FORMAT_VERSION) {
    fail("formatVersion", String(MODEL_FORMAT_VERSION), json.formatVersion);
  }
  if (!isObject(json.config)) fail("config", "an object with the model's ModelConfig", json.config);
  const config = readConfig(json.config as Record<string, unknown>, sources.modelJson);
  const metadata = metadataFromModelJson(json.userDefinedMetadata, sources.modelJson);

  const listed = listedWeights(json, weights, sources);
  const expectedSpecs = parameterSpecs(config);
  if (listed.length !== expectedSpecs.length) {
    fail(
      "weightsManifest[*].weights",
      `${expectedSpecs.length} weights (${expectedSpecs.map((s) => s.name).join(", ")})`,
      `${listed.length} weights`,
    );
  }
  const values = new Map<string, Float32Array>();
  const byName = new Map(expectedSpecs.map((spec) => [spec.name, spec]));
  for (const weight of listed) {
    const expected = byName.get(weight.name);
    if (expected === undefined) fail(`${weight.field}.name`, `one of ${[...byName.keys()].join(", ")}`, weight.name);
    if (values.has(weight.name)) fail(`${weight.field}.name`, "each weight listed once", `${weight.name} again`);
    const expectedShape = (expected as { shape: number[] }).shape;
    if (weight.shape.join(",") !== expectedShape.join(",")) {
      fail(`${weight.field}.shape`, `[${expectedShape.join(", ")}] for ${weight.name} with this config`, weight.shape);
    }
    values.set(weight.name, weight.values);
  }
  return { config, values, metadata };
}

function readConfig(raw: Record<string, unknown>, file: string): ModelConfig {
  for (const field of Object.keys(DEFAULT_MODEL_CONFIG) as (keyof ModelConfig)[]) {
    if (raw[field] === undefined) {
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
