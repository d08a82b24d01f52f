export { SequenceClassifier } from "./sequence-classifier.js";
export { DEFAULT_MODEL_CONFIG, type CellType, type ModelConfig } from "./config.js";
export { InputShapeError, ModelConfigError, ModelFormatError } from "./errors.js";
