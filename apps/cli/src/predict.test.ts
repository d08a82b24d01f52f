import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { encode, type ImageData } from "fast-png";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { preprocessDigit } from "@mnist/data";
import { loadMnist } from "@mnist/data/node";
import { runCli, tempDir } from "./cli.test-support.js";
import { colourise, enlarge, invert, mnistDigit } from "./digit-images.test-support.js";
import { fixtureModel } from "./fixtures.test-support.js";
import { decodePngBytes } from "./png.js";

let tmp: { path: string; remove: () => Promise<void> };
beforeAll(async () => {
  tmp = await tempDir("predict");
});
afterAll(() => tmp.remove());

/** Pastes a gray square image into a bigger canvas of background 0 at (left, top). */
function pad(pixels: Uint8Array, side: number, width: number, height: number, left: number, top: number): Uint8Array {
  const out = new Uint8Array(width * height);
  for (let y = 0; y < side; y++) out.set(pixels.subarray(y * side, (y + 1) * side), (top + y) * width + left);
  return out;
}

// Ten ways people hand over a digit: as MNIST stores it, inverted, enlarged, coloured, 16-bit,
// with transparency, off-centre on a wide canvas.
const variants: { name: string; dark: boolean; make: (digit: Uint8Array) => ImageData }[] = [
  { name: "gray-28", dark: false, make: (d) => ({ width: 28, height: 28, channels: 1, data: d }) },
  { name: "gray-28-inverted", dark: true, make: (d) => ({ width: 28, height: 28, channels: 1, data: invert(d) }) },
  { name: "gray-100", dark: false, make: (d) => ({ width: 100, height: 100, channels: 1, data: enlarge(d, 28, 100) }) },
  { name: "gray-100-inverted", dark: true, make: (d) => ({ width: 100, height: 100, channels: 1, data: invert(enlarge(d, 28, 100)) }) },
  { name: "rgb-100-blue-on-cream", dark: true, make: (d) => ({ width: 100, height: 100, channels: 3, data: colourise(enlarge(d, 28, 100), [20, 30, 150], [250, 245, 220]) }) },
  { name: "rgb-64-white-on-green", dark: false, make: (d) => ({ width: 64, height: 64, channels: 3, data: colourise(enlarge(d, 28, 64), [255, 255, 255], [20, 90, 40]) }) },
  {
    name: "rgba-80-black-on-transparent",
    dark: true,
    make: (d) => {
      const gray = enlarge(d, 28, 80);
      const rgba = new Uint8Array(80 * 80 * 4);
      gray.forEach((v, i) => rgba.set([0, 0, 0, v], i * 4));
      return { width: 80, height: 80, channels: 4, data: rgba };
    },
  },
  { name: "gray16-50-inverted", dark: true, make: (d) => ({ width: 50, height: 50, channels: 1, depth: 16, data: Uint16Array.from(invert(enlarge(d, 28, 50)), (v) => v * 257) }) },
  { name: "rgb-28", dark: false, make: (d) => ({ width: 28, height: 28, channels: 3, data: colourise(d, [255, 200, 0], [0, 0, 0]) }) },
  { name: "gray-150x120-off-centre-inverted", dark: true, make: (d) => ({ width: 150, height: 120, channels: 1, data: invert(pad(enlarge(d, 28, 60), 60, 150, 120, 80, 5)) }) },
];

describe("predict", () => {
  it("reads at least 9 of 10 real test digits saved as assorted PNGs", async () => {
    const { test } = await loadMnist();
    const files: string[] = [];
    const labels: number[] = [];
    variants.forEach((variant, n) => {
      labels.push(test.labels[n]!);
      files.push(join(tmp.path, `${n}-${variant.name}.png`));
    });
    await Promise.all(variants.map((variant, n) => writeFile(files[n]!, encode(variant.make(mnistDigit(test, n))))));

    const { code, stdout, stderr } = await runCli(["predict", "--model", fixtureModel, "--backend", "cpu", "--json", ...files]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const predictions = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { event: string; file: string; digit: number; probability: number; inverted: boolean })
      .filter((e) => e.event === "prediction");
    expect(predictions.map((p) => p.file)).toEqual(files);
    expect(predictions.map((p) => p.inverted)).toEqual(variants.map((v) => v.dark));
    const correct = predictions.filter((p, n) => p.digit === labels[n]).length;
    expect(correct).toBeGreaterThanOrEqual(9);
    for (const p of predictions) expect(p.probability).toBeGreaterThan(0.1);
  });

  it("prints the digit and its probability per file", async () => {
    const { test } = await loadMnist();
    const file = join(tmp.path, "seven.png");
    await writeFile(file, encode({ width: 28, height: 28, channels: 1, data: mnistDigit(test, 0) }));
    const { code, stdout } = await runCli(["predict", "--model", fixtureModel, "--backend", "cpu", file]);
    expect(code).toBe(0);
    expect(stdout.trim()).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: ${test.labels[0]} \\(probability 0\\.\\d{4}\\)$`));
  });
});

describe("PNG decoding", () => {
  it("unpacks low bit depths and palettes to the same picture", () => {
    // A 13x7 (odd width, so rows end mid-byte) black/white pattern.
    const width = 13;
    const height = 7;
    const bits = Array.from({ length: width * height }, (_, i) => ((i % width) + Math.floor(i / width)) % 3 === 0);
    const rowBytes = Math.ceil(width / 8);
    const packed = new Uint8Array(rowBytes * height);
    bits.forEach((on, i) => {
      const x = i % width;
      const y = Math.floor(i / width);
      if (on) packed[y * rowBytes + (x >> 3)]! |= 0x80 >> (x & 7);
    });
    const oneBit = decodePngBytes(encode({ width, height, channels: 1, depth: 1, data: packed }), "1-bit.png");
    const eightBit = decodePngBytes(encode({ width, height, channels: 1, data: Uint8Array.from(bits, (on) => (on ? 255 : 0)) }), "8-bit.png");
    const palette = decodePngBytes(
      encode({ width, height, channels: 1, depth: 8, palette: [[0, 0, 0], [255, 255, 255]], data: Uint8Array.from(bits, (on) => (on ? 1 : 0)) }),
      "palette.png",
    );
    const expected = Array.from(preprocessDigit(eightBit).pixels);
    expect(Array.from(preprocessDigit(oneBit).pixels)).toEqual(expected);
    expect(palette.channels).toBe(3);
    expect(Array.from(preprocessDigit(palette).pixels)).toEqual(expected);
  });

  it("rejects bytes that are not a PNG, naming the file", () => {
    expect(() => decodePngBytes(new TextEncoder().encode("GIF89a..."), "cat.gif")).toThrow(/cat\.gif.*PNG signature/);
  });
});
