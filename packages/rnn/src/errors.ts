/** A model.json / weights.bin pair (or artifacts) that cannot be read as a model. */
export class ModelFormatError extends Error {
  override readonly name = "ModelFormatError";
  constructor(
    /** File (or artifact) that is wrong, e.g. "/models/run1/model.json". */
    readonly file: string,
    /** Field inside it that is wrong, e.g. "config.hiddenSize" or "weightsManifest[0].weights[2].shape". */
    readonly field: string,
    readonly expected: string,
    readonly actual: string,
    hint = "save the model again with SequenceClassifier.save (or toArtifacts) from @mnist/rnn",
  ) {
    super(`${file}: bad ${field}: expected ${expected}, found ${actual}. Hint: ${hint}.`);
  }
}

/** A ModelConfig value no model can have. */
export class ModelConfigError extends Error {
  override readonly name = "ModelConfigError";
  constructor(
    /** ModelConfig field that is wrong. */
    readonly field: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`ModelConfig.${field}: expected ${expected}, found ${actual}. Hint: omit it to use the default.`);
  }
}

/** A tensor passed to the model whose shape or dtype does not fit its config. */
export class InputShapeError extends Error {
  override readonly name = "InputShapeError";
  constructor(
    /** Argument that is wrong ("images", "labels" or "outputMask"). */
    readonly argument: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `${argument}: expected ${expected}, found ${actual}. Hint: images are [batch, steps, inputSize] float32, labels int32 class ids and an outputMask [batch, hiddenSize] float32, as in the model's config.`,
    );
  }
}

/** Model metadata that JSON cannot store as given (it is saved in model.json). */
export class ModelMetadataError extends Error {
  override readonly name = "ModelMetadataError";
  constructor(
    /** Path of the bad value inside the metadata, e.g. "metadata.permute" or "metadata.sizes[2]". */
    readonly field: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`${field}: expected ${expected}, found ${actual}. Hint: metadata holds plain JSON values (objects, arrays, strings, finite numbers, booleans, null).`);
  }
}
