import type { ModelConfig } from "./config.js";
import type { ModelMetadata } from "./metadata.js";

/**
 * A model's config, weights and metadata at one moment: everything a model file holds, and
 * everything SequenceClassifier.fromSnapshot needs to rebuild the model. Each file format is a
 * pair of functions to and from this.
 */
export interface ModelSnapshot {
  config: ModelConfig;
  /** Every parameter's values by stable name ("input/kernel", "lstm/bias", ...), row-major. */
  values: ReadonlyMap<string, Float32Array>;
  metadata: ModelMetadata;
}
