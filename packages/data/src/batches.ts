import { MNIST_CLASSES, type MnistSplit } from "./mnist.js";
import { Random } from "./random.js";

/** A batch ready for a sequence model: each image is `rows` steps of `cols` inputs. */
export interface Batch {
  /** Images in this batch (the last ordered batch may be smaller). */
  size: number;
  /** [size, rows, cols] row-major, pixel/255 in [0, 1]. */
  images: Float32Array;
  /** [size] class index 0..9. */
  labels: Int32Array;
  /** [size, 10] one-hot rows of `labels`. */
  oneHot: Float32Array;
}

export interface BatcherOptions {
  /** Seed of the per-epoch shuffle; default 0. */
  seed?: number;
  /** Shuffle at the start of every epoch (as TF's next_batch does); default true. */
  shuffle?: boolean;
}

/** Everything needed to resume a Batcher exactly; plain JSON. */
export interface BatcherState {
  seed: number;
  /** Completed epochs. */
  epoch: number;
  /** Images already served from the current epoch. */
  position: number;
  /** Generator state at the start of the current epoch, before its shuffle. */
  rngState: number;
  /** Whether epochs are shuffled; default true. */
  shuffle?: boolean;
}

// pixel/255 for every byte value, so a batch is filled by table look-ups instead of divisions.
const PIXEL_SCALE = Float32Array.from({ length: 256 }, (_, value) => value / 255);

function checkSplit(split: MnistSplit): void {
  const pixels = split.rows * split.cols;
  if (split.images.length !== split.count * pixels || split.labels.length !== split.count) {
    throw new RangeError(
      `MnistSplit sizes disagree: count ${split.count} needs ${split.count * pixels} pixels and ${split.count} labels, ` +
        `found ${split.images.length} and ${split.labels.length}`,
    );
  }
  const bad = split.labels.findIndex((label) => label >= MNIST_CLASSES);
  if (bad !== -1) {
    throw new RangeError(`MnistSplit label ${split.labels[bad]} at index ${bad} is outside 0..${MNIST_CLASSES - 1}`);
  }
}

function checkSize(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
}

function allocateBatch(size: number, pixels: number): Batch {
  return { size, images: new Float32Array(size * pixels), labels: new Int32Array(size), oneHot: new Float32Array(size * MNIST_CLASSES) };
}

/** Writes image `index` of `split` into row `slot` of `batch`. */
function copyExample(split: MnistSplit, index: number, batch: Batch, slot: number, pixels: number): void {
  const source = split.images;
  const target = batch.images;
  const from = index * pixels;
  const to = slot * pixels;
  for (let p = 0; p < pixels; p++) {
    target[to + p] = PIXEL_SCALE[source[from + p]!]!;
  }
  const label = split.labels[index]!;
  batch.labels[slot] = label;
  batch.oneHot[slot * MNIST_CLASSES + label] = 1;
}

/**
 * Serves endless training batches like TF's `mnist.train.next_batch`: the images of an epoch in
 * a seeded random order, a fresh order every epoch, batches running on across epoch boundaries.
 */
export class Batcher {
  readonly split: MnistSplit;
  readonly seed: number;
  readonly shuffle: boolean;
  private readonly random: Random;
  private readonly order: Uint32Array;
  private epochStartState = 0;
  private position = 0;
  private completedEpochs = 0;

  constructor(split: MnistSplit, options: BatcherOptions = {}) {
    checkSplit(split);
    if (split.count === 0) throw new RangeError("Batcher needs at least one image");
    const seed = options.seed ?? 0;
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    this.split = split;
    this.seed = seed;
    this.shuffle = options.shuffle ?? true;
    this.random = new Random(seed);
    this.order = new Uint32Array(split.count);
    this.startEpoch();
  }

  /** Rebuilds a Batcher from `state()` so that it serves exactly the batches the original would have. */
  static restore(split: MnistSplit, state: BatcherState): Batcher {
    const batcher = new Batcher(split, { seed: state.seed, shuffle: state.shuffle ?? true });
    const valid =
      Number.isSafeInteger(state.epoch) && state.epoch >= 0 &&
      Number.isInteger(state.position) && state.position >= 0 && state.position < split.count &&
      Number.isInteger(state.rngState) && state.rngState >= 0 && state.rngState < 2 ** 32;
    if (!valid) {
      throw new RangeError(`BatcherState ${JSON.stringify(state)} does not fit a split of ${split.count} images`);
    }
    batcher.random.state = state.rngState;
    batcher.completedEpochs = state.epoch;
    batcher.startEpoch();
    batcher.position = state.position;
    return batcher;
  }

  /** Completed epochs. */
  get epoch(): number {
    return this.completedEpochs;
  }

  state(): BatcherState {
    return { seed: this.seed, epoch: this.completedEpochs, position: this.position, rngState: this.epochStartState, shuffle: this.shuffle };
  }

  /** Always `size` images; an epoch that runs out mid-batch is finished and the next one (reshuffled) fills the rest. */
  nextBatch(size: number): Batch {
    checkSize("batch size", size);
    const pixels = this.split.rows * this.split.cols;
    const batch = allocateBatch(size, pixels);
    for (let slot = 0; slot < size; slot++) {
      copyExample(this.split, this.order[this.position]!, batch, slot, pixels);
      this.position++;
      if (this.position === this.split.count) {
        this.completedEpochs++;
        this.startEpoch();
      }
    }
    return batch;
  }

  // The order is rebuilt from the identity each epoch, so it depends only on the generator state
  // saved in epochStartState: that is what lets restore() reproduce it.
  private startEpoch(): void {
    this.epochStartState = this.random.state;
    for (let i = 0; i < this.order.length; i++) this.order[i] = i;
    if (this.shuffle) this.random.shuffle(this.order);
    this.position = 0;
  }
}

/** Holds out the FIRST `validationSize` images as validation, like TF's MNIST reader; both parts are views, not copies. */
export function splitValidation(split: MnistSplit, validationSize: number): { train: MnistSplit; validation: MnistSplit } {
  if (!Number.isSafeInteger(validationSize) || validationSize < 0 || validationSize > split.count) {
    throw new RangeError(`validationSize must be an integer in 0..${split.count}, got ${validationSize}`);
  }
  const pixels = split.rows * split.cols;
  const part = (start: number, end: number): MnistSplit => ({
    images: split.images.subarray(start * pixels, end * pixels),
    labels: split.labels.subarray(start, end),
    count: end - start,
    rows: split.rows,
    cols: split.cols,
  });
  return { validation: part(0, validationSize), train: part(validationSize, split.count) };
}

/** The images in file order, `batchSize` at a time, the last batch holding the remainder; for evaluation. */
export function orderedBatches(split: MnistSplit, batchSize: number): Iterable<Batch> {
  // Checked here rather than in the generator so that bad arguments fail at the call.
  checkSplit(split);
  checkSize("batch size", batchSize);
  return generateOrderedBatches(split, batchSize);
}

function* generateOrderedBatches(split: MnistSplit, batchSize: number): Generator<Batch, void, undefined> {
  const pixels = split.rows * split.cols;
  for (let start = 0; start < split.count; start += batchSize) {
    const size = Math.min(batchSize, split.count - start);
    const batch = allocateBatch(size, pixels);
    for (let slot = 0; slot < size; slot++) copyExample(split, start + slot, batch, slot, pixels);
    yield batch;
  }
}
