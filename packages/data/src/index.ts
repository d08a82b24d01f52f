export { IdxFormatError, type IdxFormatErrorDetails } from "./errors.js";
export { decodeIdx, encodeIdx, type IdxArray, type IdxData, type IdxDataType, type IdxDecodeOptions } from "./idx.js";
export { DEFAULT_MAX_BYTES } from "./gzip.js";
export { MNIST_CLASSES, MNIST_FILES, mnistSplitFromIdx, type Mnist, type MnistFileName, type MnistSplit } from "./mnist.js";
export { DEFAULT_PREPROCESS_CONFIG, centreOfMass, preprocessDigit, type DigitImage, type PreprocessConfig, type PreprocessedDigit } from "./preprocess.js";
export { Batcher, orderedBatches, splitValidation, type Batch, type BatcherOptions, type BatcherState } from "./batches.js";
export { permutePixels, pixelPermutation, SEQUENCE_ORDERS, toSequences, type SequenceOptions, type SequenceOrder } from "./sequences.js";
export { mix32 } from "./random.js";
