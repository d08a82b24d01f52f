import { describe, expect, it } from "vitest";
import { loadMnist } from "./load.js";
import { colourise, enlarge, invert, mnistDigit, shiftedCorrelation } from "./digit-images.test-support.js";
import { centreOfMass, preprocessDigit, type DigitImage } from "./preprocess.js";

/** A gray canvas with filled shapes painted by `ink(x, y)` (0..255). */
function canvas(width: number, height: number, ink: (x: number, y: number) => number): DigitImage {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = ink(x, y);
  return { width, height, channels: 1, data };
}

/** Columns and rows of the 28x28 output that hold any ink. */
function inkExtent(pixels: Float32Array): { width: number; height: number } {
  const cols = new Set<number>();
  const rows = new Set<number>();
  pixels.forEach((v, i) => {
    if (v > 0) {
      cols.add(i % 28);
      rows.add(Math.floor(i / 28));
    }
  });
  return { width: cols.size, height: rows.size };
}

describe("preprocessDigit", () => {
  it("moves an off-centre digit's centre of mass to the middle of the 28x28 square", () => {
    // An L shape whose centre of mass is far from its bounding box centre, in the top-left corner.
    const image = canvas(90, 60, (x, y) => ((x >= 5 && x < 11 && y >= 4 && y < 40) || (x >= 5 && x < 35 && y >= 34 && y < 40) ? 255 : 0));
    const { pixels, inverted, hasInk } = preprocessDigit(image);
    expect(hasInk).toBe(true);
    expect(inverted).toBe(false);
    const com = centreOfMass(pixels, 28, 28);
    expect(Math.abs(com.x - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(com.y - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.max(...pixels)).toBe(1);
  });

  it("fits the bounding box into 20x20 keeping the aspect ratio", () => {
    const tall = preprocessDigit(canvas(100, 100, (x, y) => (x >= 30 && x < 40 && y >= 20 && y < 60 ? 200 : 0)));
    expect(inkExtent(tall.pixels)).toEqual({ width: 5, height: 20 });
    const wide = preprocessDigit(canvas(50, 30, (x, y) => (x >= 2 && x < 18 && y >= 10 && y < 14 ? 255 : 0)));
    expect(inkExtent(wide.pixels)).toEqual({ width: 20, height: 5 });
    // A tiny digit is enlarged to the same box.
    const small = preprocessDigit(canvas(12, 12, (x, y) => (x >= 4 && x < 6 && y >= 2 && y < 10 ? 255 : 0)));
    expect(inkExtent(small.pixels)).toEqual({ width: 5, height: 20 });
  });

  it("detects dark ink on a light background and inverts it", () => {
    const light = canvas(40, 40, (x, y) => ((x - 20) ** 2 + (y - 18) ** 2 < 64 && (x - 20) ** 2 + (y - 18) ** 2 > 16 ? 255 : 0));
    const dark: DigitImage = { ...light, data: invert(light.data as Uint8Array) };
    const fromLight = preprocessDigit(light);
    const fromDark = preprocessDigit(dark);
    expect(fromLight.inverted).toBe(false);
    expect(fromDark.inverted).toBe(true);
    expect(Array.from(fromDark.pixels)).toEqual(Array.from(fromLight.pixels));
  });

  it("reads colour, 16-bit and transparent pictures like their gray equivalent", () => {
    const gray = canvas(30, 30, (x, y) => (x >= 10 && x < 16 && y >= 5 && y < 25 ? 255 : 0));
    const expected = Array.from(preprocessDigit(gray).pixels);
    const grayBytes = gray.data as Uint8Array;
    // Blue ink on cream paper.
    const colour = preprocessDigit({ width: 30, height: 30, channels: 3, data: colourise(grayBytes, [20, 30, 140], [250, 245, 220]) });
    expect(colour.inverted).toBe(true);
    expect(Array.from(colour.pixels)).toEqual(expected);
    const deep = preprocessDigit({ width: 30, height: 30, channels: 1, data: Uint16Array.from(grayBytes, (v) => v * 257), maxValue: 65535 });
    expect(Array.from(deep.pixels)).toEqual(expected);
    // Black strokes on a transparent canvas, as a drawing app exports them.
    const rgba = new Uint8Array(30 * 30 * 4);
    grayBytes.forEach((v, i) => rgba.set([0, 0, 0, v], i * 4));
    const drawn = preprocessDigit({ width: 30, height: 30, channels: 4, data: rgba });
    expect(drawn.inverted).toBe(true);
    expect(Array.from(drawn.pixels)).toEqual(expected);
  });

  it("returns an empty square for a blank picture", () => {
    const blank = preprocessDigit(canvas(20, 20, () => 255));
    expect(blank.hasInk).toBe(false);
    expect(blank.pixels.every((v) => v === 0)).toBe(true);
  });

  it("maps real MNIST digits, enlarged, inverted or coloured, back close to the originals", async () => {
    const { test } = await loadMnist();
    for (let n = 0; n < 20; n++) {
      const original = mnistDigit(test, n);
      const big = enlarge(original, 28, 100);
      const variants: DigitImage[] = [
        { width: 28, height: 28, channels: 1, data: original },
        { width: 100, height: 100, channels: 1, data: invert(big) },
        { width: 100, height: 100, channels: 3, data: colourise(big, [250, 250, 250], [10, 40, 10]) },
      ];
      for (const variant of variants) {
        // MNIST centred by centre of mass at a different stage, so allow a 2-pixel offset.
        expect(shiftedCorrelation(preprocessDigit(variant).pixels, original, 28, 2)).toBeGreaterThan(0.85);
      }
    }
  });
});
