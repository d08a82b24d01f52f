/** Model files (model.json and its weights) that cannot be read as a model. */
export class ModelFormatError extends Error {
  override readonly name = "ModelFormatError";
  constructor(
    /** File that is wrong, e.g. "/models/run1/model.json". */
    readonly file: string,
    /** Field inside it that is wrong, e.g. "config.hiddenSize" or "weightsManifest[0].weights[2].shape". */
    readonly field: string,
    readonly expected: string,
    readonly actual: string,
    /** What probably went wrong or what to do about it. */
    readonly hint = "the file is damaged, or was not written by a model writer of this project or TensorFlow.js",
  ) {
    super(`${file}: bad ${field}: expected ${expected}, found ${actual}. Hint: ${hint}.`);
  }
}

/** Model files declaring more bytes than the reader's limit; refused before they are read. */
export class ModelTooLargeError extends Error {
  override readonly name = "ModelTooLargeError";
  constructor(
    /** The file that declares the size: model.json (for its weights) or the file itself. */
    readonly file: string,
    /** What declared it: "weightsManifest" or "(file size)". */
    readonly field: string,
    /** Bytes declared. */
    readonly declared: number,
    /** The limit in force (ReadModelOptions.maxBytes). */
    readonly limit: number,
  ) {
    const neededMb = Math.ceil(declared / 1e6);
    super(
      `${file}: ${field}: expected at most ${limit} bytes, found ${declared} bytes. ` +
        `Hint: if the model is genuine, raise the limit to ${neededMb} MB or more (the CLI's --max-model-mb ${neededMb}; maxBytes in code).`,
    );
  }
}

/** A model file that could not be written (the model's earlier files, if any, are left as they were). */
export class ModelWriteError extends Error {
  override readonly name = "ModelWriteError";
  constructor(
    /** File that could not be written. */
    readonly file: string,
    /** The system's reason, e.g. "ENOSPC". */
    readonly reason: string,
  ) {
    super(`${file}: cannot write: ${reason}`);
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
    /** Argument that is wrong ("images", "labels", "outputMask" or "hidden"). */
    readonly argument: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `${argument}: expected ${expected}, found ${actual}. Hint: images are [batch, steps, inputSize] float32, labels int32 class ids, an outputMask and hidden features [batch, hiddenSize] float32, as in the model's config.`,
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
