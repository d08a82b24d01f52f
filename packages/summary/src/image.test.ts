import { decode } from "fast-png";
import { describe, expect, it } from "vitest";
import { SummaryValueError } from "./errors.js";
import { encodeImage, imageGrid } from "./image.js";

describe("imageGrid", () => {
  it("tiles images row by row, perRow to a row, leaving missing cells black", () => {
    // 5 images of 2x3 pixels; pixel (r, c) of image n is n*10 + r*3 + c + 1, so each says where it came from.
    const rows = 2;
    const cols = 3;
    const images = Uint8Array.from({ length: 5 * rows * cols }, (_, i) => {
      const n = Math.floor(i / 6);
      return n * 10 + (i % 6) + 1;
    });
    const grid = imageGrid(images, 5, rows, cols, 2);
    expect(grid).toMatchObject({ width: 6, height: 6, channels: 1 });
    for (let n = 0; n < 6; n++) {
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          const y = Math.floor(n / 2) * rows + r;
          const x = (n % 2) * cols + c;
          expect(grid.pixels[y * grid.width + x], `image ${n} (${r},${c})`).toBe(n < 5 ? n * 10 + r * cols + c + 1 : 0);
        }
      }
    }
  });

  it("scales float intensities in [0, 1] to bytes, clamping the rest", () => {
    const grid = imageGrid(Float32Array.from([0, 0.5, 1, 2, -1, NaN]), 1, 2, 3, 4);
    expect(grid).toMatchObject({ width: 3, height: 2 });
    expect([...grid.pixels]).toEqual([0, 128, 255, 255, 0, 0]);
  });

  it("rejects too few pixels and bad sizes with the numbers involved", () => {
    expect(() => imageGrid(new Uint8Array(10), 2, 2, 3, 2)).toThrow(/at least count\*rows\*cols = 12, found 10/);
    expect(() => imageGrid(new Uint8Array(10), 0, 2, 3, 2)).toThrow(SummaryValueError);
  });
});

describe("encodeImage", () => {
  it("PNG-encodes gray, RGB and RGBA pixels losslessly", () => {
    for (const channels of [1, 3, 4] as const) {
      const pixels = Uint8Array.from({ length: 7 * 5 * channels }, (_, i) => (i * 53) & 0xff);
      const out = encodeImage("t", { width: 7, height: 5, channels, pixels });
      expect(out).toMatchObject({ width: 7, height: 5, colorspace: channels });
      const png = decode(out.png);
      expect({ width: png.width, height: png.height, channels: png.channels, depth: png.depth }).toEqual({ width: 7, height: 5, channels, depth: 8 });
      expect(new Uint8Array(png.data)).toEqual(pixels);
    }
  });

  it("names the field and the expected size when pixels do not fit", () => {
    const error = (() => {
      try {
        encodeImage("digits", { width: 4, height: 3, channels: 1, pixels: new Uint8Array(11) });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(SummaryValueError);
    expect(error).toMatchObject({ tag: "digits", field: "image.pixels.length", actual: "11" });
    expect(() => encodeImage("t", { width: 0, height: 3, channels: 1, pixels: new Uint8Array(0) })).toThrow(/image.width/);
    expect(() => encodeImage("t", { width: 1, height: 1, channels: 2 as 1, pixels: new Uint8Array(2) })).toThrow(/1, 3 or 4/);
    expect(() => encodeImage("t", { width: 1, height: 1, channels: 1, pixels: new Float32Array(1) as unknown as Uint8Array })).toThrow(/Uint8Array/);
  });
});
