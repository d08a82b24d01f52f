export { SequenceClassifier } from "./sequence-classifier.js";
export { DEFAULT_MODEL_CONFIG, type CellType, type ModelConfig, type RecurrentInit } from "./config.js";
export { InputShapeError, ModelConfigError, ModelFormatError, ModelMetadataError } from "./errors.js";
export type { ModelMetadata } from "./metadata.js";
export { decodeLayersModel, encodeLayersModel, LAYERS_MODEL_FORMAT, type ExpectedInput, type LayersModelJson } from "./layers-format.js";
export type { ArtifactSources, DecodedModel } from "./artifacts.js";
