import { writeFile } from "node:fs/promises";
import { crc32 } from "node:zlib";
import { join } from "node:path";
import { encode, type ImageData } from "fast-png";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMnist } from "@mnist/data/node";
import { runCli, tempDir } from "./cli.test-support.js";
import { colourise, enlarge, invert, mnistDigit } from "./digit-images.test-support.js";
import { fixtureModel } from "./fixtures.test-support.js";

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

describe("predict with hostile PNG files", () => {
  /** A PNG of a few hundred bytes declaring `width`x`height` gray pixels (its data is a single row). */
  function hugePng(width: number, height: number): Uint8Array {
    const valid = encode({ width: 1, height: 1, channels: 1, data: Uint8Array.of(0) });
    const view = new DataView(valid.buffer, valid.byteOffset);
    view.setUint32(16, width);
    view.setUint32(20, height);
    // IHDR's CRC covers its type and data (bytes 12..29).
    view.setUint32(29, crc32(valid.subarray(12, 29)));
    return valid;
  }

  it("refuses a small PNG declaring 30000x30000 pixels in one line naming the file, size, limit and flag, exit 2", async () => {
    const file = join(tmp.path, "huge.png");
    await writeFile(file, hugePng(30000, 30000));
    const before = process.memoryUsage().rss;
    const { code, stdout, stderr } = await runCli(["predict", "--model", fixtureModel, "--backend", "cpu", file]);
    expect(process.memoryUsage().rss - before).toBeLessThan(200_000_000);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(new RegExp(`^error: ${escape(file)}: PNG header: expected a decoded size of at most 64000000 bytes, found 30000x30000 gray pixels of 8 bits = 900030000 bytes declared\\. Hint: .*--max-input-mb 901`));
  });

  it("--max-input-mb raises the limit (and lowers it)", async () => {
    const file = join(tmp.path, "wide.png");
    await writeFile(file, hugePng(3000, 3000));
    // Within a raised limit, the file is refused for what it is: one row of data where 3000 are declared.
    const raised = await runCli(["predict", "--model", fixtureModel, "--backend", "cpu", "--max-input-mb", "10", file]);
    expect(raised.code).toBe(2);
    expect(raised.stderr).toMatch(/bad PNG image data: expected 9003000 bytes of scanlines/);
    const lowered = await runCli(["predict", "--model", fixtureModel, "--backend", "cpu", "--max-input-mb", "0.0001", join(tmp.path, "seven.png")]);
    expect(lowered.code).toBe(2);
    expect(lowered.stderr).toMatch(/seven\.png: file size: expected a decoded size of at most 100 bytes/);
  });

  it.each([
    ["truncated", (png: Uint8Array) => png.subarray(0, 40), /bad PNG (IDAT chunk length|layout)/],
    ["bad CRC", (png: Uint8Array) => Uint8Array.from(png, (b, i) => (i === 50 ? b ^ 1 : b)), /bad PNG IDAT chunk CRC/],
    ["control characters in a chunk type", (png: Uint8Array) => Uint8Array.from([...png.subarray(0, 33), 0, 0, 0, 1, 0x1b, 0x5b, 0x32, 0x4a, 0, 0, 0, 0, 0]), /bad PNG chunk type: expected four ASCII letters, found 1B 5B 32 4A/],
  ])("a %s PNG fails in one printable line naming the file, exit 2", async (name, damage, reason) => {
    const file = join(tmp.path, `${name}.png`);
    await writeFile(file, damage(encode({ width: 28, height: 28, channels: 1, data: new Uint8Array(784).fill(7) })));
    const { code, stderr } = await runCli(["predict", "--model", fixtureModel, "--backend", "cpu", file]);
    expect(code).toBe(2);
    expect(stderr).toMatch(new RegExp(`^error: ${escape(file)}: `));
    expect(stderr).toMatch(reason);
    expect(stderr.trimEnd()).toMatch(/^[\x20-\x7e]+$/);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
