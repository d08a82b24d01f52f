import { MNIST_CLASSES, type MnistSplit } from "./mnist.js";
import { mix32, Random } from "./random.js";

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
  /**
   * Largest random translation, in pixels along each axis, of every served image: each image
   * moves by integers (dy, dx) drawn uniformly from [-maxShift, maxShift], pixels leaving the
   * rows x cols frame are dropped and the uncovered border is 0; default 0 (images as stored).
   */
  maxShift?: number;
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
  /** Whether epochs are shuffled. */
  shuffle: boolean;
  /** Largest random translation in pixels. */
  maxShift: number;
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

function checkMaxShift(split: MnistSplit, maxShift: number): void {
  const limit = Math.min(split.rows, split.cols);
  if (!Number.isInteger(maxShift) || maxShift < 0 || (maxShift > 0 && maxShift >= limit)) {
    throw new RangeError(
      `maxShift must be an integer in 0..${limit - 1} (smaller than the ${split.rows}x${split.cols} image), got ${maxShift}; ` +
        "it shifts rows and columns, so it only suits images read a row per step",
    );
  }
}

/**
 * Writes image `index` of `split`, moved down by `dy` and right by `dx` rows/columns, into row
 * `slot` of `batch`. The batch arrives zeroed, so only the part of the frame the moved image
 * still covers is written and the uncovered border stays background.
 */
function copyExample(split: MnistSplit, index: number, batch: Batch, slot: number, dy: number, dx: number): void {
  const { rows, cols } = split;
  const source = split.images;
  const target = batch.images;
  const to = slot * rows * cols;
  // Source index of target pixel (y, x) is from + y * cols + x: the pixel (y - dy, x - dx) of image `index`.
  const from = index * rows * cols - dy * cols - dx;
  const xStart = Math.max(0, dx);
  const xEnd = Math.min(cols, cols + dx);
  for (let y = Math.max(0, dy), yEnd = Math.min(rows, rows + dy); y < yEnd; y++) {
    const row = y * cols;
    for (let x = xStart; x < xEnd; x++) {
      target[to + row + x] = PIXEL_SCALE[source[from + row + x]!]!;
    }
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
  readonly maxShift: number;
  private readonly random: Random;
  private readonly order: Uint32Array;
  private epochStartState = 0;
  private position = 0;
  private completedEpochs = 0;
  private epochShiftKey = 0;

  constructor(split: MnistSplit, options: BatcherOptions = {}) {
    checkSplit(split);
    if (split.count === 0) throw new RangeError("Batcher needs at least one image");
    const seed = options.seed ?? 0;
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    this.split = split;
    this.seed = seed;
    this.shuffle = options.shuffle ?? true;
    this.maxShift = options.maxShift ?? 0;
    checkMaxShift(split, this.maxShift);
    this.random = new Random(seed);
    this.order = new Uint32Array(split.count);
    this.startEpoch();
  }

  /** Rebuilds a Batcher from `state()` so that it serves exactly the batches the original would have. */
  static restore(split: MnistSplit, state: BatcherState): Batcher {
    const batcher = new Batcher(split, { seed: state.seed, shuffle: state.shuffle, maxShift: state.maxShift });
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
    return { seed: this.seed, epoch: this.completedEpochs, position: this.position, rngState: this.epochStartState, shuffle: this.shuffle, maxShift: this.maxShift };
  }

  /** Always `size` images; an epoch that runs out mid-batch is finished and the next one (reshuffled) fills the rest. */
  nextBatch(size: number): Batch {
    checkSize("batch size", size);
    const batch = allocateBatch(size, this.split.rows * this.split.cols);
    const choices = 2 * this.maxShift + 1;
    for (let slot = 0; slot < size; slot++) {
      let dy = 0;
      let dx = 0;
      if (this.maxShift > 0) {
        // One of the choices^2 offsets, from a hash of (seed, epoch, position): no generator state
        // to save, and the shuffle's generator is left untouched.
        const offset = Math.floor((mix32(this.epochShiftKey ^ mix32(this.position)) / 2 ** 32) * choices * choices);
        dy = Math.floor(offset / choices) - this.maxShift;
        dx = (offset % choices) - this.maxShift;
      }
      copyExample(this.split, this.order[this.position]!, batch, slot, dy, dx);
      this.position++;
      if (this.position === this.split.count) {
        this.completedEpochs++;
        this.startEpoch();
      }
    }
    return batch;
  }

  // The order is rebuilt from the identity each epoch, so it depends only on the generator state
  // saved in epochStartState, and the shift key only on seed and epoch: that is what lets
  // restore() reproduce both.
  private startEpoch(): void {
    this.epochStartState = this.random.state;
    this.epochShiftKey = mix32(mix32(this.seed) + this.completedEpochs);
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
    for (let slot = 0; slot < size; slot++) copyExample(split, start + slot, batch, slot, 0, 0);
    yield batch;
  }
}
