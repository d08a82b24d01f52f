// Turns any picture of a single digit into the 28x28 input MNIST models expect. Pure array
// code, so the CLI's predict (decoded PNG files) and the web page (canvas ImageData) share it.

/** A decoded picture: row-major, `channels` interleaved samples per pixel. */
export interface DigitImage {
  width: number;
  height: number;
  /** 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. */
  channels: 1 | 2 | 3 | 4;
  /** width*height*channels samples in 0..maxValue. */
  data: ArrayLike<number>;
  /** Value of a full-intensity sample: 255 for 8-bit images (default), 65535 for 16-bit. */
  maxValue?: number;
}

/** How the digit is normalised; the defaults are what MNIST itself did. */
export interface PreprocessConfig {
  /** Side of the output square: 28. */
  size: number;
  /** Side of the box the digit's bounding box is fitted into, aspect ratio kept: 20. */
  box: number;
  /** Ink level (0..1, after background removal) that counts toward the bounding box: 0.1. */
  inkThreshold: number;
}

export const DEFAULT_PREPROCESS_CONFIG: PreprocessConfig = { size: 28, box: 20, inkThreshold: 0.1 };

/** Result of preprocessing: MNIST-like pixels plus what was decided on the way. */
export interface PreprocessedDigit {
  /** [size*size] row-major, 0 background .. 1 ink, light-on-dark like MNIST. */
  pixels: Float32Array;
  /** True if the picture was dark ink on a light background and got inverted. */
  inverted: boolean;
  /** False if no ink was found (blank picture); pixels are then all zero. */
  hasInk: boolean;
}

/**
 * Fits the digit's bounding box into a 20x20 box keeping its aspect ratio, then places it in
 * a 28x28 square so that its centre of mass is at the centre, as MNIST was built.
 * Dark-on-light pictures (bright border) are inverted first.
 */
export function preprocessDigit(image: DigitImage, config: Partial<PreprocessConfig> = {}): PreprocessedDigit {
  const { size, box, inkThreshold } = { ...DEFAULT_PREPROCESS_CONFIG, ...config };
  const { width, height } = image;
  const gray = toGray(image);
  const inverted = borderMean(gray, width, height) > 0.5;
  if (inverted) for (let i = 0; i < gray.length; i++) gray[i] = 1 - gray[i]!;

  const ink = removeBackground(gray, borderMean(gray, width, height));
  const out = new Float32Array(size * size);
  const bounds = inkBounds(ink, width, height, inkThreshold);
  if (!bounds) return { pixels: out, inverted, hasInk: false };

  const boxWidth = bounds.right - bounds.left;
  const boxHeight = bounds.bottom - bounds.top;
  const scale = box / Math.max(boxWidth, boxHeight);
  const patchWidth = Math.max(1, Math.round(boxWidth * scale));
  const patchHeight = Math.max(1, Math.round(boxHeight * scale));
  const patch = resampleArea(ink, width, bounds, patchWidth, patchHeight);

  const { x: comX, y: comY } = centreOfMass(patch, patchWidth, patchHeight);
  const offsetX = Math.round(size / 2 - comX);
  const offsetY = Math.round(size / 2 - comY);
  for (let y = 0; y < patchHeight; y++) {
    const outY = y + offsetY;
    if (outY < 0 || outY >= size) continue;
    for (let x = 0; x < patchWidth; x++) {
      const outX = x + offsetX;
      if (outX < 0 || outX >= size) continue;
      out[outY * size + outX] = patch[y * patchWidth + x]!;
    }
  }
  stretchToUnitMax(out);
  return { pixels: out, inverted, hasInk: true };
}

/** Centre of mass of an intensity image, in pixel coordinates where pixel i spans [i, i+1). */
export function centreOfMass(pixels: ArrayLike<number>, width: number, height: number): { x: number; y: number } {
  let total = 0;
  let sumX = 0;
  let sumY = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = pixels[y * width + x]!;
      total += v;
      sumX += v * (x + 0.5);
      sumY += v * (y + 0.5);
    }
  }
  if (total === 0) return { x: width / 2, y: height / 2 };
  return { x: sumX / total, y: sumY / total };
}

// Luminance in 0..1; transparent pixels are composited onto white, the way a viewer shows them.
function toGray(image: DigitImage): Float32Array {
  const { width, height, channels, data } = image;
  const max = image.maxValue ?? 255;
  const count = width * height;
  if (data.length < count * channels) {
    throw new RangeError(`image data has ${data.length} samples, expected ${count * channels} (${width}x${height}x${channels})`);
  }
  const gray = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const at = i * channels;
    const luma =
      channels >= 3
        ? (0.299 * data[at]! + 0.587 * data[at + 1]! + 0.114 * data[at + 2]!) / max
        : data[at]! / max;
    const alpha = channels === 2 || channels === 4 ? data[at + channels - 1]! / max : 1;
    gray[i] = luma * alpha + (1 - alpha);
  }
  return gray;
}

function borderMean(gray: Float32Array, width: number, height: number): number {
  let sum = 0;
  let count = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (y === 0 || y === height - 1 || x === 0 || x === width - 1) {
        sum += gray[y * width + x]!;
        count++;
      }
    }
  }
  return sum / count;
}

// A grey (not black) background, e.g. a photo of paper, would otherwise count as faint ink
// everywhere; map the background level to 0 and the brightest stroke to 1.
function removeBackground(gray: Float32Array, background: number): Float32Array {
  let max = 0;
  for (const v of gray) max = Math.max(max, v);
  const range = max - background;
  const ink = new Float32Array(gray.length);
  if (range <= 1e-6) return ink;
  for (let i = 0; i < gray.length; i++) ink[i] = Math.max(0, (gray[i]! - background) / range);
  return ink;
}

interface Bounds {
  left: number; // first column with ink
  top: number; // first row with ink
  right: number; // one past the last column with ink
  bottom: number; // one past the last row with ink
}

function inkBounds(ink: Float32Array, width: number, height: number, threshold: number): Bounds | undefined {
  let left = width;
  let top = height;
  let right = 0;
  let bottom = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x]! > threshold) {
        left = Math.min(left, x);
        right = Math.max(right, x + 1);
        top = Math.min(top, y);
        bottom = Math.max(bottom, y + 1);
      }
    }
  }
  return right > left ? { left, top, right, bottom } : undefined;
}

// Each output pixel is the exact area-weighted mean of the source region it covers: an
// anti-aliased shrink like MNIST's, and a plain (slightly blocky) enlargement.
function resampleArea(
  source: Float32Array,
  sourceWidth: number,
  bounds: Bounds,
  outWidth: number,
  outHeight: number,
): Float32Array {
  const out = new Float32Array(outWidth * outHeight);
  const stepX = (bounds.right - bounds.left) / outWidth;
  const stepY = (bounds.bottom - bounds.top) / outHeight;
  for (let oy = 0; oy < outHeight; oy++) {
    const y0 = bounds.top + oy * stepY;
    const y1 = y0 + stepY;
    for (let ox = 0; ox < outWidth; ox++) {
      const x0 = bounds.left + ox * stepX;
      const x1 = x0 + stepX;
      let sum = 0;
      for (let sy = Math.floor(y0); sy < y1; sy++) {
        const wy = Math.min(y1, sy + 1) - Math.max(y0, sy);
        if (wy <= 0) continue;
        for (let sx = Math.floor(x0); sx < x1; sx++) {
          const wx = Math.min(x1, sx + 1) - Math.max(x0, sx);
          if (wx <= 0) continue;
          sum += wx * wy * source[sy * sourceWidth + sx]!;
        }
      }
      out[oy * outWidth + ox] = sum / (stepX * stepY);
    }
  }
  return out;
}

// Shrinking thin strokes lowers their peak; MNIST digits reach full intensity, so does ours.
function stretchToUnitMax(pixels: Float32Array): void {
  let max = 0;
  for (const v of pixels) max = Math.max(max, v);
  if (max <= 0) return;
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.min(1, pixels[i]! / max);
}
