import { encode as encodePng } from "fast-png";
import { SummaryValueError } from "./errors.js";

/** A raster image: row-major pixels, `channels` bytes per pixel (gray, RGB or RGBA). */
export interface SummaryImage {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  pixels: Uint8Array;
}

/** Summary.Image fields for `image`, with its pixels PNG-encoded. */
export function encodeImage(
  tag: string,
  image: SummaryImage,
): { width: number; height: number; colorspace: number; png: Uint8Array } {
  const { width, height, channels, pixels } = image;
  for (const [field, size] of [["width", width], ["height", height]] as const) {
    if (!Number.isInteger(size) || size < 1 || size > 0x7fffffff) {
      throw new SummaryValueError(tag, `image.${field}`, "a positive integer", String(size), "pass the size in pixels");
    }
  }
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new SummaryValueError(tag, "image.channels", "1, 3 or 4", String(channels), "use 1 for gray, 3 for RGB, 4 for RGBA");
  }
  if (!(pixels instanceof Uint8Array)) {
    throw new SummaryValueError(tag, "image.pixels", "a Uint8Array of 0..255 bytes", Object.prototype.toString.call(pixels), "scale floats to bytes first, e.g. with imageGrid()");
  }
  if (pixels.length !== width * height * channels) {
    throw new SummaryValueError(
      tag,
      "image.pixels.length",
      `width*height*channels = ${width * height * channels}`,
      String(pixels.length),
      "pixels are row-major bytes, one per channel; check width and height are not swapped",
    );
  }
  const png = encodePng({ width, height, data: pixels, channels, depth: 8 });
  // Summary.Image.colorspace numbers gray, RGB and RGBA as 1, 3 and 4: the channel count.
  return { width, height, colorspace: channels, png };
}

/**
 * Tiles `count` single-channel images of `rows`×`cols` pixels, stored one
 * after another in `images`, into one gray image with `perRow` images per
 * row (e.g. a 4×8 sheet of input digits). Float pixels are taken as
 * intensities in [0, 1] and clamped; byte pixels are copied as they are.
 * Cells past the last image stay black.
 */
export function imageGrid(
  images: Uint8Array | Float32Array,
  count: number,
  rows: number,
  cols: number,
  perRow: number,
): { width: number; height: number; channels: 1; pixels: Uint8Array } {
  for (const [field, n] of [["count", count], ["rows", rows], ["cols", cols], ["perRow", perRow]] as const) {
    if (!Number.isInteger(n) || n < 1) {
      throw new SummaryValueError("imageGrid", field, "a positive integer", String(n), "count images of rows×cols pixels, perRow per grid row");
    }
  }
  const size = rows * cols;
  if (images.length < count * size) {
    throw new SummaryValueError(
      "imageGrid",
      "images.length",
      `at least count*rows*cols = ${count * size}`,
      String(images.length),
      "pass fewer images in count, or check rows and cols",
    );
  }
  const gridCols = Math.min(perRow, count);
  const gridRows = Math.ceil(count / perRow);
  const width = gridCols * cols;
  const height = gridRows * rows;
  const pixels = new Uint8Array(width * height);
  for (let n = 0; n < count; n++) {
    const top = Math.floor(n / perRow) * rows;
    const left = (n % perRow) * cols;
    for (let r = 0; r < rows; r++) {
      const src = n * size + r * cols;
      const dst = (top + r) * width + left;
      if (images instanceof Uint8Array) {
        pixels.set(images.subarray(src, src + cols), dst);
      } else {
        for (let c = 0; c < cols; c++) pixels[dst + c] = Math.round(Math.min(Math.max(images[src + c]!, 0), 1) * 255);
      }
    }
  }
  return { width, height, channels: 1, pixels };
}
