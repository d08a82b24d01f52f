import { beforeAll, describe, expect, it } from "vitest";
import { Batcher, orderedBatches, splitValidation, type Batch } from "./batches.js";
import { loadMnist } from "./load.js";
import type { Mnist, MnistSplit } from "./mnist.js";
import { Random } from "./random.js";

const ROWS = 2;
const COLS = 3;

/** Image i carries its own index in its first two pixels, so a batch reveals which images it holds. */
function indexedSplit(count: number): MnistSplit {
  const images = new Uint8Array(count * ROWS * COLS);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    images[i * ROWS * COLS] = i & 0xff;
    images[i * ROWS * COLS + 1] = i >> 8;
    images[i * ROWS * COLS + 2] = 255;
    labels[i] = (i * 7) % 10;
  }
  return { images, labels, count, rows: ROWS, cols: COLS };
}

function indicesOf(batch: Batch): number[] {
  const pixels = ROWS * COLS;
  return Array.from({ length: batch.size }, (_, slot) => {
    const low = Math.round(batch.images[slot * pixels]! * 255);
    const high = Math.round(batch.images[slot * pixels + 1]! * 255);
    return low + 256 * high;
  });
}

function take(batcher: Batcher, batches: number, size: number): number[] {
  return Array.from({ length: batches }, () => indicesOf(batcher.nextBatch(size))).flat();
}

function sorted(values: number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("Batcher", () => {
  const split = indexedSplit(1000);

  it("fills a batch with pixel/255, class indices and one-hot rows of the chosen images", () => {
    const batch = new Batcher(split, { seed: 5 }).nextBatch(32);
    expect(batch.size).toBe(32);
    expect(batch.images.length).toBe(32 * ROWS * COLS);
    const indices = indicesOf(batch);
    indices.forEach((index, slot) => {
      for (let p = 0; p < ROWS * COLS; p++) {
        expect(batch.images[slot * ROWS * COLS + p]).toBe(Math.fround(split.images[index * ROWS * COLS + p]! / 255));
      }
      const label = split.labels[index]!;
      expect(batch.labels[slot]).toBe(label);
      expect(Array.from(batch.oneHot.subarray(slot * 10, slot * 10 + 10))).toEqual(range(10).map((c) => (c === label ? 1 : 0)));
    });
  });

  it("is deterministic for a seed and differs between seeds", () => {
    const first = take(new Batcher(split, { seed: 42 }), 20, 100);
    expect(take(new Batcher(split, { seed: 42 }), 20, 100)).toEqual(first);
    expect(take(new Batcher(split, { seed: 43 }), 20, 100)).not.toEqual(first);
  });

  it("serves every image exactly once per epoch, in a new order each epoch, across batch boundaries", () => {
    const batcher = new Batcher(split, { seed: 1 });
    const stream: number[] = [];
    const epochs: number[] = [];
    for (let b = 0; b < 47; b++) {
      stream.push(...indicesOf(batcher.nextBatch(64)));
      epochs.push(batcher.epoch);
    }
    const epoch0 = stream.slice(0, 1000);
    const epoch1 = stream.slice(1000, 2000);
    expect(sorted(epoch0)).toEqual(range(1000));
    expect(sorted(epoch1)).toEqual(range(1000));
    expect(epoch0).not.toEqual(range(1000));
    expect(epoch1).not.toEqual(epoch0);
    // 15 batches of 64 = 960 images; the 16th finishes epoch 0, the 32nd (2048) finishes epoch 1.
    expect(epochs[14]).toBe(0);
    expect(epochs[15]).toBe(1);
    expect(epochs[30]).toBe(1);
    expect(epochs[31]).toBe(2);
  });

  it("keeps file order when shuffle is off", () => {
    const batcher = new Batcher(split, { shuffle: false });
    expect(take(batcher, 3, 400)).toEqual([...range(1000), ...range(200)]);
    expect(batcher.epoch).toBe(1);
  });

  it("serves batches larger than the split, counting every epoch crossed", () => {
    const batcher = new Batcher(split, { seed: 9 });
    const indices = indicesOf(batcher.nextBatch(2500));
    expect(batcher.epoch).toBe(2);
    expect(sorted(indices.slice(0, 1000))).toEqual(range(1000));
    expect(sorted(indices.slice(1000, 2000))).toEqual(range(1000));
  });

  it.each([
    ["mid epoch 0", 7],
    ["mid epoch 2", 40],
    ["at an epoch boundary", 125],
  ])("resumes bit-exactly from state() %s", (_, batchesBefore) => {
    const original = new Batcher(split, { seed: 11 });
    take(original, batchesBefore, 8 * 8);
    const saved = JSON.parse(JSON.stringify(original.state()));
    const resumed = Batcher.restore(split, saved);
    expect(resumed.state()).toEqual(original.state());
    expect(resumed.epoch).toBe(original.epoch);
    for (let b = 0; b < 40; b++) {
      const expected = original.nextBatch(64);
      const actual = resumed.nextBatch(64);
      expect(Buffer.compare(Buffer.from(actual.images.buffer), Buffer.from(expected.images.buffer))).toBe(0);
      expect(actual.labels).toEqual(expected.labels);
    }
    expect(resumed.state()).toEqual(original.state());
  });

  it("refuses a state that does not fit the split", () => {
    const state = new Batcher(split).state();
    expect(() => Batcher.restore(split, { ...state, position: 1000 })).toThrow(RangeError);
    expect(() => Batcher.restore(split, { ...state, rngState: -1 })).toThrow(RangeError);
  });

  it("refuses batch sizes below 1 and labels outside 0..9", () => {
    expect(() => new Batcher(split).nextBatch(0)).toThrow(RangeError);
    expect(() => new Batcher({ ...split, labels: split.labels.map((l, i) => (i === 3 ? 10 : l)) })).toThrow(/label 10 at index 3/);
  });
});

describe("Random", () => {
  it("puts an element in every position equally often when shuffling", () => {
    // Independent check of Fisher-Yates: over 5000 seeds, element 0 of 10 lands in each
    // position ~500 times; an off-by-one in the swap range would leave a position empty or doubled.
    const landed = new Array<number>(10).fill(0);
    for (let seed = 0; seed < 5000; seed++) {
      const values = Uint32Array.from(range(10));
      new Random(seed).shuffle(values);
      landed[values.indexOf(0)]!++;
    }
    for (const count of landed) expect(Math.abs(count - 500)).toBeLessThan(90);
  });

  it("draws uniform floats in [0, 1)", () => {
    const random = new Random(123);
    const buckets = new Array<number>(10).fill(0);
    let outside = 0;
    for (let i = 0; i < 100000; i++) {
      const value = random.next();
      if (!(value >= 0 && value < 1)) outside++;
      else buckets[Math.floor(value * 10)]!++;
    }
    expect(outside).toBe(0);
    for (const count of buckets) expect(Math.abs(count - 10000)).toBeLessThan(400);
  });
});

describe("on real MNIST", () => {
  let mnist: Mnist;
  beforeAll(async () => {
    mnist = await loadMnist();
  });

  it("holds out the first 5000 training images for validation, disjoint from the rest", () => {
    const { train, validation } = splitValidation(mnist.train, 5000);
    expect(validation.count).toBe(5000);
    expect(train.count).toBe(55000);
    expect(validation.images.length).toBe(5000 * 784);
    expect(train.images.length).toBe(55000 * 784);
    expect(validation.labels).toEqual(mnist.train.labels.subarray(0, 5000));
    expect(train.labels).toEqual(mnist.train.labels.subarray(5000));
    expect(Buffer.compare(train.images.subarray(0, 784), mnist.train.images.subarray(5000 * 784, 5001 * 784))).toBe(0);
    // Same buffer, non-overlapping ranges: no image is in both parts.
    expect(validation.images.buffer).toBe(train.images.buffer);
    expect(validation.images.byteOffset + validation.images.byteLength).toBeLessThanOrEqual(train.images.byteOffset);
    expect(() => splitValidation(mnist.train, 60001)).toThrow(RangeError);
  });

  it("iterates the test set in order, the last batch partial", () => {
    const batches = [...orderedBatches(mnist.test, 128)];
    expect(batches.length).toBe(79);
    expect(batches.at(-1)!.size).toBe(10000 - 78 * 128);
    const labels = batches.flatMap((batch) => Array.from(batch.labels));
    expect(labels).toEqual(Array.from(mnist.test.labels));
    const first = batches[0]!;
    for (let p = 0; p < 784; p++) expect(first.images[p]).toBe(Math.fround(mnist.test.images[p]! / 255));
  });

  it("serves 781 training batches of 128 with pixels in [0, 1]", () => {
    const batcher = new Batcher(mnist.train, { seed: 0 });
    let min = Infinity;
    let max = -Infinity;
    for (let step = 0; step < 781; step++) {
      const batch = batcher.nextBatch(128);
      for (let i = 0; i < batch.images.length; i += 97) {
        min = Math.min(min, batch.images[i]!);
        max = Math.max(max, batch.images[i]!);
      }
    }
    expect(batcher.epoch).toBe(1);
    expect(batcher.state().position).toBe(781 * 128 - 60000);
    expect(min).toBe(0);
    expect(max).toBe(1);
  });
});
