import { ModelFormatError, ModelMetadataError } from "./errors.js";
import { copyMetadata, type ModelMetadata } from "./metadata.js";

// TensorFlow.js's weights manifest, shared by every model.json format we read and write:
// `weightsManifest: [{ paths: [file, ...], weights: [{ name, shape, dtype }, ...] }, ...]`, the
// values of all weights in listing order, split over the listed files in order.

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: "float32";
}

/** One weight with its values, in the order it is (to be) listed. */
export interface NamedWeight {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** A weight as model.json lists it, with its values sliced from the weight files. */
export interface ListedWeight extends NamedWeight {
  /** Where it is listed, for messages, e.g. "weightsManifest[0].weights[2]". */
  field: string;
}

/** A model encoded for storage: model.json's content and the one weights file it lists. */
export interface EncodedModel {
  modelJson: Record<string, unknown>;
  weights: Float32Array;
}

/** Names model.json and the weights in error messages (file paths when reading from disk). */
export interface FileSources {
  modelJson: string;
  weights: string;
}

/** The manifest of one weights file holding `weights` in order, and that file's contents. */
export function packWeights(weights: readonly NamedWeight[], weightsFile: string): { weightsManifest: { paths: string[]; weights: WeightSpec[] }[]; data: Float32Array } {
  const data = new Float32Array(weights.reduce((sum, weight) => sum + weight.values.length, 0));
  let offset = 0;
  for (const { name, shape, values } of weights) {
    if (values.length !== elementCount(shape)) throw new Error(`internal: weight ${name} has ${values.length} values for shape [${shape.join(", ")}]`);
    data.set(values, offset);
    offset += values.length;
  }
  const specs = weights.map(({ name, shape }): WeightSpec => ({ name, shape: [...shape], dtype: "float32" }));
  return { weightsManifest: [{ paths: [weightsFile], weights: specs }], data };
}

/** model.json's userDefinedMetadata as the model's metadata, checked as create() checks it; errors name the file. */
export function metadataFromModelJson(raw: unknown, file: string, hint?: string): ModelMetadata {
  if (!isObject(raw)) throw new ModelFormatError(file, "userDefinedMetadata", "an object (the model's metadata)", describeValue(raw), hint);
  try {
    return copyMetadata(raw, "userDefinedMetadata");
  } catch (error) {
    if (error instanceof ModelMetadataError) throw new ModelFormatError(file, error.field, error.expected, error.actual, hint);
    throw error;
  }
}

/** The weight files model.json lists, in order: plain names inside the model's folder only. */
export function manifestPaths(modelJson: Record<string, unknown>, file: string): string[] {
  return manifestGroups(modelJson, file).flatMap((group, g) => {
    const { paths } = group;
    if (!Array.isArray(paths) || paths.length === 0 || !paths.every(isPlainFileName)) {
      throw new ModelFormatError(file, `weightsManifest[${g}].paths`, 'a list of file names in the same folder, e.g. ["weights.bin"]', describeValue(paths));
    }
    return paths as string[];
  });
}

/**
 * Bytes of weights model.json declares, from the listed shapes, so a reader can refuse a model
 * beyond its limit before reading (or allocating) anything. Every listed shape is checked here.
 */
export function declaredWeightBytes(modelJson: Record<string, unknown>, file: string): number {
  return listedSpecs(modelJson, file).reduce((sum, spec) => sum + 4 * elementCount(spec.shape), 0);
}

/** Every listed weight with its values; the weight files' bytes must be exactly what the manifest lists. */
export function listedWeights(modelJson: Record<string, unknown>, weights: ArrayBuffer, sources: FileSources): ListedWeight[] {
  const specs = listedSpecs(modelJson, sources.modelJson);
  const floats = specs.reduce((sum, spec) => sum + elementCount(spec.shape), 0);
  if (weights.byteLength !== floats * 4) {
    throw new ModelFormatError(
      sources.weights,
      "(byte length)",
      `${floats * 4} bytes (${floats} float32 values listed in ${sources.modelJson})`,
      `${weights.byteLength} bytes`,
      "the weights file is truncated or belongs to another model.json",
    );
  }
  let offset = 0;
  return specs.map((spec) => {
    const count = elementCount(spec.shape);
    const values = new Float32Array(weights.slice(offset * 4, (offset + count) * 4));
    offset += count;
    return { ...spec, values };
  });
}

function listedSpecs(modelJson: Record<string, unknown>, file: string): { field: string; name: string; shape: number[] }[] {
  return manifestGroups(modelJson, file).flatMap((group, g) => {
    const { weights } = group;
    if (!Array.isArray(weights)) throw new ModelFormatError(file, `weightsManifest[${g}].weights`, "an array of {name, shape, dtype}", describeValue(weights));
    return weights.map((spec: unknown, w) => {
      const field = `weightsManifest[${g}].weights[${w}]`;
      if (!isObject(spec)) throw new ModelFormatError(file, field, "an object {name, shape, dtype}", describeValue(spec));
      if (typeof spec.name !== "string") throw new ModelFormatError(file, `${field}.name`, "a string", describeValue(spec.name));
      if (!isShape(spec.shape)) throw new ModelFormatError(file, `${field}.shape`, "a list of sizes (non-negative integers)", describeValue(spec.shape));
      if (spec.dtype !== "float32") throw new ModelFormatError(file, `${field}.dtype`, '"float32"', describeValue(spec.dtype));
      if (spec.quantization !== undefined) {
        throw new ModelFormatError(file, `${field}.quantization`, "none (float32 weights; convert without --quantize_* flags)", describeValue(spec.quantization));
      }
      return { field, name: spec.name, shape: spec.shape };
    });
  });
}

function manifestGroups(modelJson: Record<string, unknown>, file: string): Record<string, unknown>[] {
  const manifest = modelJson.weightsManifest;
  if (!Array.isArray(manifest) || manifest.length === 0) {
    throw new ModelFormatError(file, "weightsManifest", "a non-empty array of weight groups", describeValue(manifest));
  }
  return manifest.map((group: unknown, g) => {
    if (!isObject(group)) throw new ModelFormatError(file, `weightsManifest[${g}]`, "an object with paths and weights", describeValue(group));
    return group;
  });
}

function isPlainFileName(name: unknown): boolean {
  return typeof name === "string" && /^[^/\\\u0000-\u001f]+$/.test(name) && name !== "." && name !== "..";
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, size) => product * size, 1);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Sizes no larger than 2^31 each, so a product of a few of them stays exact in a double. */
function isShape(value: unknown): value is number[] {
  return Array.isArray(value) && value.length <= 8 && value.every((size) => Number.isInteger(size) && size >= 0 && size <= 2 ** 31);
}

/** A value read from a file, for a message: JSON (which escapes control characters), cut short. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing (field missing)";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
