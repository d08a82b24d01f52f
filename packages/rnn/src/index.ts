export { SequenceClassifier } from "./sequence-classifier.js";
export { DEFAULT_MODEL_CONFIG, type CellType, type ModelConfig, type RecurrentInit } from "./config.js";
export { InputShapeError, ModelConfigError, ModelFormatError, ModelMetadataError } from "./errors.js";
export type { ModelMetadata } from "./metadata.js";
export { softmaxCrossEntropy } from "./cross-entropy.js";
