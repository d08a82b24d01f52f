export { IdxFormatError, InputTooLargeError, PngFormatError, SequenceInputError } from "./errors.js";
export { DEFAULT_MAX_BYTES, type DecodeLimits } from "./limits.js";
export { decodeIdx, encodeIdx, type IdxArray, type IdxData, type IdxDataType } from "./idx.js";
export { decodePng } from "./png.js";
export { MNIST_CLASSES, MNIST_FILES, mnistSplitFromIdx, type Mnist, type MnistFileName, type MnistSplit } from "./mnist.js";
export { DEFAULT_PREPROCESS_CONFIG, centreOfMass, preprocessDigit, type DigitImage, type PreprocessConfig, type PreprocessedDigit } from "./preprocess.js";
export { Batcher, orderedBatches, splitValidation, type Batch, type BatcherOptions, type BatcherState } from "./batches.js";
export {
  describeSequenceInput,
  permutePixels,
  pixelPermutation,
  modelSequenceInput,
  ROWS_INPUT,
  SEQUENCE_ORDERS,
  sequenceInputMetadata,
  sequenceInputOf,
  sequencePixels,
  sequenceShape,
  toSequences,
  type SequenceInput,
  type SequenceOrder,
} from "./sequences.js";
export { mix32 } from "./random.js";
