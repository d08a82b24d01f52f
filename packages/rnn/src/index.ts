export { SequenceClassifier } from "./sequence-classifier.js";
export { DEFAULT_MODEL_CONFIG, type CellType, type DenseInit, type ModelConfig, type OutputBias, type RecurrentInit } from "./config.js";
export { InputShapeError, ModelConfigError, ModelFormatError, ModelMetadataError, ModelTooLargeError, ModelWriteError } from "./errors.js";
export type { ModelMetadata } from "./metadata.js";
export type { ModelSnapshot } from "./snapshot.js";
export { parameterCount, trainingBytes } from "./memory.js";
export {
  DEFAULT_MAX_MODEL_BYTES,
  MODEL_JSON,
  readModel,
  writeModel,
  type ModelFileFormat,
  type ReadModelFile,
  type ReadModelOptions,
  type WriteModelFile,
  type WriteModelOptions,
} from "./model-io.js";
export { softmaxCrossEntropy } from "./cross-entropy.js";
export type { ExpectedInput } from "./layers-format.js";
