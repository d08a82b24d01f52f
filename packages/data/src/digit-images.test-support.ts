// Builders of test pictures from MNIST digits: enlarged, inverted, tinted, as users would draw them.
import type { MnistSplit } from "./mnist.js";

/** Test digit `n` as a 28x28 gray byte image (light ink on black). */
export function mnistDigit(split: MnistSplit, n: number): Uint8Array {
  const size = split.rows * split.cols;
  return split.images.slice(n * size, (n + 1) * size);
}

/** Bilinear enlargement of a square gray image (pixel centres aligned), as an image editor does. */
export function enlarge(pixels: Uint8Array, side: number, target: number): Uint8Array {
  const out = new Uint8Array(target * target);
  const ratio = side / target;
  const at = (x: number, y: number): number => pixels[Math.min(side - 1, Math.max(0, y)) * side + Math.min(side - 1, Math.max(0, x))]!;
  for (let y = 0; y < target; y++) {
    const sy = (y + 0.5) * ratio - 0.5;
    const y0 = Math.floor(sy);
    const fy = sy - y0;
    for (let x = 0; x < target; x++) {
      const sx = (x + 0.5) * ratio - 0.5;
      const x0 = Math.floor(sx);
      const fx = sx - x0;
      const top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx;
      const bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx;
      out[y * target + x] = Math.round(top * (1 - fy) + bottom * fy);
    }
  }
  return out;
}

export function invert(pixels: Uint8Array): Uint8Array {
  return pixels.map((v) => 255 - v);
}

/** Colour picture of a light-on-dark gray digit: `ink` RGB where the digit is, `paper` RGB elsewhere. */
export function colourise(pixels: Uint8Array, ink: [number, number, number], paper: [number, number, number]): Uint8Array {
  const out = new Uint8Array(pixels.length * 3);
  pixels.forEach((v, i) => {
    const t = v / 255;
    for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(ink[c]! * t + paper[c]! * (1 - t));
  });
  return out;
}

/** Pearson correlation of two equally long pixel arrays. */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let meanA = 0;
  let meanB = 0;
  for (let i = 0; i < n; i++) {
    meanA += a[i]! / n;
    meanB += b[i]! / n;
  }
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - meanA;
    const db = b[i]! - meanB;
    ab += da * db;
    aa += da * da;
    bb += db * db;
  }
  return ab / Math.sqrt(aa * bb);
}

/** Best correlation of `a` with `b` shifted by up to `maxShift` pixels each way (square images of `side`). */
export function shiftedCorrelation(a: ArrayLike<number>, b: ArrayLike<number>, side: number, maxShift: number): number {
  let best = -1;
  for (let dy = -maxShift; dy <= maxShift; dy++) {
    for (let dx = -maxShift; dx <= maxShift; dx++) {
      const shifted = new Float32Array(side * side);
      for (let y = 0; y < side; y++) {
        for (let x = 0; x < side; x++) {
          const sx = x - dx;
          const sy = y - dy;
          if (sx >= 0 && sx < side && sy >= 0 && sy < side) shifted[y * side + x] = b[sy * side + sx]!;
        }
      }
      best = Math.max(best, correlation(a, shifted));
    }
  }
  return best;
}
