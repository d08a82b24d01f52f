import { beforeAll, describe, expect, it } from "vitest";
import { Batcher, type Batch } from "./batches.js";
import { mnistSplitFromIdx, type MnistSplit } from "./mnist.js";
import { realTestSlice } from "./mnist-slice.test-support.js";
import { Random } from "./random.js";
import { toSequences } from "./sequences.js";

type Shift = [dy: number, dx: number];

/** The source image of every served image, rebuilt from the shuffle alone: the identity reshuffled each epoch by one Mulberry32 stream. */
function servedOrder(count: number, seed: number, total: number): number[] {
  const random = new Random(seed);
  const served: number[] = [];
  while (served.length < total) {
    const order = Uint32Array.from({ length: count }, (_, i) => i);
    random.shuffle(order);
    served.push(...order);
  }
  return served.slice(0, total);
}

/** Image `index` moved down `dy` and right `dx`, written pixel by pixel from the definition, as pixel/255. */
function shifted(split: MnistSplit, index: number, [dy, dx]: Shift): Float32Array {
  const { rows, cols } = split;
  const out = new Float32Array(rows * cols);
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < cols; x++) {
      const sy = y - dy;
      const sx = x - dx;
      if (sy >= 0 && sy < rows && sx >= 0 && sx < cols) out[y * cols + x] = split.images[index * rows * cols + sy * cols + sx]! / 255;
    }
  }
  return out;
}

function imageOf(batch: Batch, slot: number, pixels: number): Float32Array {
  return batch.images.subarray(slot * pixels, (slot + 1) * pixels);
}

function sameBytes(a: Float32Array, b: Float32Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

/** Every (dy, dx) in [-maxShift, maxShift]^2 whose shift of source image `index` equals `image` exactly. */
function matchingShifts(image: Float32Array, split: MnistSplit, index: number, maxShift: number): Shift[] {
  const found: Shift[] = [];
  for (let dy = -maxShift; dy <= maxShift; dy++) {
    for (let dx = -maxShift; dx <= maxShift; dx++) {
      if (sameBytes(image, shifted(split, index, [dy, dx]))) found.push([dy, dx]);
    }
  }
  return found;
}

function serve(batcher: Batcher, batches: number, size: number): Batch[] {
  return Array.from({ length: batches }, () => batcher.nextBatch(size));
}

/** Serves `total` images (in batches of `size`) and returns the shift each one was given; the split must be read in file order. */
function shiftsInFileOrder(split: MnistSplit, options: { seed: number; maxShift: number }, total: number, size: number): string[] {
  const batcher = new Batcher(split, { ...options, shuffle: false });
  const pixels = split.rows * split.cols;
  const shifts: string[] = [];
  while (shifts.length < total) {
    const batch = batcher.nextBatch(size);
    for (let slot = 0; slot < size && shifts.length < total; slot++) {
      const match = matchingShifts(imageOf(batch, slot, pixels), split, shifts.length % split.count, options.maxShift);
      expect(match).toHaveLength(1);
      shifts.push(match[0]!.join(","));
    }
  }
  return shifts;
}

const TINY_ROWS = 3;
const TINY_COLS = 4;

/** Tiny images whose pixels are all non-zero and distinct within an image, so the background a shift uncovers shows where it went. */
function tinySplit(count: number): MnistSplit {
  const pixels = TINY_ROWS * TINY_COLS;
  const images = Uint8Array.from({ length: count * pixels }, (_, k) => 1 + (k % 254));
  const labels = Uint8Array.from({ length: count }, (_, i) => (i * 3) % 10);
  return { images, labels, count, rows: TINY_ROWS, cols: TINY_COLS };
}

describe("Batcher maxShift on real digits", () => {
  let digits: MnistSplit;
  const pixels = 28 * 28;
  beforeAll(async () => {
    const { images, labels } = await realTestSlice(1000);
    digits = mnistSplitFromIdx(images, labels);
  });

  it("serves without maxShift, and with maxShift 0, exactly the unshifted images of the shuffle", () => {
    const order = servedOrder(digits.count, 3, 10 * 128);
    for (const batcher of [new Batcher(digits, { seed: 3 }), new Batcher(digits, { seed: 3, maxShift: 0 })]) {
      serve(batcher, 10, 128).forEach((batch, b) => {
        for (let slot = 0; slot < 128; slot++) {
          const source = order[b * 128 + slot]!;
          expect(sameBytes(imageOf(batch, slot, pixels), shifted(digits, source, [0, 0]))).toBe(true);
          expect(batch.labels[slot]).toBe(digits.labels[source]);
        }
      });
      expect(batcher.state()).toMatchObject({ epoch: 1, position: 280, maxShift: 0 });
    }
  });

  it("serves each image of the unchanged shuffle moved by one (dy, dx) in [-2, 2]^2, all 25 about equally often, labels untouched", () => {
    const batches = serve(new Batcher(digits, { seed: 5, maxShift: 2 }), 16, 125);
    const order = servedOrder(digits.count, 5, 16 * 125);
    const counts = new Map<string, number>();
    batches.forEach((batch, b) => {
      for (let slot = 0; slot < 125; slot++) {
        const source = order[b * 125 + slot]!;
        const match = matchingShifts(imageOf(batch, slot, pixels), digits, source, 2);
        expect(match).toHaveLength(1);
        const key = match[0]!.join(",");
        counts.set(key, (counts.get(key) ?? 0) + 1);
        const label = digits.labels[source]!;
        expect(batch.labels[slot]).toBe(label);
        expect(Array.from(batch.oneHot.subarray(slot * 10, slot * 10 + 10)).indexOf(1)).toBe(label);
        expect(batch.oneHot.subarray(slot * 10, slot * 10 + 10).reduce((a, v) => a + v, 0)).toBe(1);
      }
    });
    // 2000 images over 25 offsets: 80 each expected, standard deviation about 9.
    expect(counts.size).toBe(25);
    for (const count of counts.values()) expect(Math.abs(count - 80)).toBeLessThan(40);
  });

  it("keeps all the ink of digits with a blank border of 2 or more pixels, and only what stays in frame of the others", () => {
    // Blank border width of each digit: MNIST centres the ink's mass, not its box, so some ink reaches the edge.
    const border = Array.from({ length: digits.count }, (_, i) => {
      let width = 14;
      for (let y = 0; y < 28; y++) {
        for (let x = 0; x < 28; x++) {
          if (digits.images[i * pixels + y * 28 + x]! > 0) width = Math.min(width, y, x, 27 - y, 27 - x);
        }
      }
      return width;
    });
    expect(border.filter((width) => width >= 2).length).toBeGreaterThan(800);
    const order = servedOrder(digits.count, 8, 8 * 125);
    let whole = 0;
    let cut = 0;
    serve(new Batcher(digits, { seed: 8, maxShift: 2 }), 8, 125).forEach((batch, b) => {
      for (let slot = 0; slot < 125; slot++) {
        const source = order[b * 125 + slot]!;
        const image = imageOf(batch, slot, pixels);
        const served = image.reduce((sum, v) => sum + Math.round(v * 255), 0);
        const stored = digits.images.subarray(source * pixels, (source + 1) * pixels).reduce((sum, v) => sum + v, 0);
        if (border[source]! >= 2) {
          expect(served).toBe(stored);
          whole++;
        } else {
          const [dy, dx] = matchingShifts(image, digits, source, 2)[0]!;
          let kept = 0;
          for (let y = Math.max(0, -dy); y < Math.min(28, 28 - dy); y++) {
            for (let x = Math.max(0, -dx); x < Math.min(28, 28 - dx); x++) kept += digits.images[source * pixels + y * 28 + x]!;
          }
          expect(served).toBe(kept);
          if (kept < stored) cut++;
        }
      }
    });
    expect(whole).toBeGreaterThan(800);
    expect(cut).toBeGreaterThan(0);
  });

  it("serves the same batches for the same seed and other shifts for another seed", () => {
    const first = serve(new Batcher(digits, { seed: 7, maxShift: 2 }), 10, 128);
    const again = serve(new Batcher(digits, { seed: 7, maxShift: 2 }), 10, 128);
    const other = serve(new Batcher(digits, { seed: 8, maxShift: 2 }), 10, 128);
    first.forEach((batch, b) => {
      expect(sameBytes(batch.images, again[b]!.images)).toBe(true);
      expect(batch.labels).toEqual(again[b]!.labels);
    });
    expect(first.every((batch, b) => sameBytes(batch.images, other[b]!.images))).toBe(false);
  });

  it("derives each shift from seed, epoch and position only: batch sizes do not matter, epochs and seeds do", () => {
    const bySevens = shiftsInFileOrder(digits, { seed: 2, maxShift: 2 }, 2000, 7);
    const byHundreds = shiftsInFileOrder(digits, { seed: 2, maxShift: 2 }, 2000, 100);
    expect(byHundreds).toEqual(bySevens);
    const epoch0 = bySevens.slice(0, 1000);
    const epoch1 = bySevens.slice(1000);
    // Two independent draws from 25 offsets agree 1 time in 25: about 40 of 1000.
    expect(epoch0.filter((shift, i) => shift === epoch1[i]).length).toBeLessThan(80);
    const otherSeed = shiftsInFileOrder(digits, { seed: 3, maxShift: 2 }, 1000, 100);
    expect(epoch0.filter((shift, i) => shift === otherSeed[i]).length).toBeLessThan(80);
  });

  it.each([
    ["mid epoch 0", 7, 64],
    ["mid epoch 0, the next batch crossing into epoch 1", 15, 64],
    ["mid epoch 1", 20, 64],
    ["exactly at an epoch boundary", 8, 125],
  ])("resumes bit-exactly from state() %s", (_, batchesBefore, size) => {
    const original = new Batcher(digits, { seed: 11, maxShift: 2 });
    serve(original, batchesBefore, size);
    const saved = JSON.parse(JSON.stringify(original.state()));
    expect(saved.maxShift).toBe(2);
    const resumed = Batcher.restore(digits, saved);
    expect(resumed.maxShift).toBe(2);
    expect(resumed.state()).toEqual(original.state());
    for (let b = 0; b < 20; b++) {
      const expected = original.nextBatch(size);
      const actual = resumed.nextBatch(size);
      expect(sameBytes(actual.images, expected.images)).toBe(true);
      expect(actual.labels).toEqual(expected.labels);
    }
    expect(resumed.state()).toEqual(original.state());
  });

  it("refuses a maxShift that is not an integer in 0..27 for 28x28 images, or any shift of pixel sequences", () => {
    for (const bad of [-1, 1.5, Number.NaN, 28, 100]) {
      expect(() => new Batcher(digits, { maxShift: bad })).toThrow(RangeError);
      expect(() => new Batcher(digits, { maxShift: bad })).toThrow(/maxShift must be an integer in 0\.\.27/);
    }
    expect(new Batcher(digits, { maxShift: 27 }).nextBatch(4).size).toBe(4);
    expect(() => new Batcher(toSequences(digits, { order: "pixels" }), { maxShift: 1 })).toThrow(/maxShift .* 784x1 image/);
    expect(() => Batcher.restore(digits, { ...new Batcher(digits).state(), maxShift: 28 })).toThrow(/maxShift/);
  });
});

describe("Batcher maxShift on tiny images", () => {
  const split = tinySplit(30);
  const pixels = TINY_ROWS * TINY_COLS;

  it("drops what leaves the frame and fills the uncovered border with 0, up to the largest shift allowed", () => {
    const order = servedOrder(split.count, 1, 20 * 30);
    const seen = new Set<string>();
    serve(new Batcher(split, { seed: 1, maxShift: 2 }), 20, 30).forEach((batch, b) => {
      for (let slot = 0; slot < 30; slot++) {
        const source = order[b * 30 + slot]!;
        const image = imageOf(batch, slot, pixels);
        const match = matchingShifts(image, split, source, 2);
        expect(match).toHaveLength(1);
        const [dy, dx] = match[0]!;
        seen.add(`${dy},${dx}`);
        // Ink kept: the source pixels that stay inside the frame, and nothing else.
        let kept = 0;
        let inked = 0;
        for (let y = 0; y < TINY_ROWS; y++) {
          for (let x = 0; x < TINY_COLS; x++) {
            const staysIn = y + dy >= 0 && y + dy < TINY_ROWS && x + dx >= 0 && x + dx < TINY_COLS;
            if (staysIn) kept += split.images[source * pixels + y * TINY_COLS + x]!;
            if (image[y * TINY_COLS + x]! > 0) inked++;
          }
        }
        expect(image.reduce((sum, v) => sum + Math.round(v * 255), 0)).toBe(kept);
        expect(inked).toBe((TINY_ROWS - Math.abs(dy)) * (TINY_COLS - Math.abs(dx)));
        expect(batch.labels[slot]).toBe(split.labels[source]);
      }
    });
    expect(seen.size).toBe(25);
  });

  it("refuses a maxShift as large as the shorter side", () => {
    expect(() => new Batcher(split, { maxShift: 3 })).toThrow(/maxShift must be an integer in 0\.\.2 \(smaller than the 3x4 image\), got 3/);
  });
});
