import { imageGrid } from "@mnist/summary";

// TensorBoard shows no caption per image, so the model's answer is drawn under each digit.

/** 3x5 pixel glyphs of 0-9, one string per row, "#" = ink. */
const glyphs: readonly (readonly string[])[] = [
  ["###", "#.#", "#.#", "#.#", "###"],
  [".#.", "##.", ".#.", ".#.", "###"],
  ["###", "..#", "###", "#..", "###"],
  ["###", "..#", "###", "..#", "###"],
  ["#.#", "#.#", "###", "..#", "..#"],
  ["###", "#..", "###", "..#", "###"],
  ["###", "#..", "###", "#.#", "###"],
  ["###", "..#", ".#.", ".#.", ".#."],
  ["###", "#.#", "###", "#.#", "###"],
  ["###", "#.#", "###", "..#", "###"],
];

const glyphScale = 2; // each glyph pixel becomes 2x2
const captionHeight = 5 * glyphScale + 4; // glyph plus 2 pixels above and below

/** Square digits side by side ([count, side, side] pixels in 0..1), each with its label below. */
export function captionedDigits(
  pixels: Float32Array,
  count: number,
  side: number,
  labels: ArrayLike<number>,
): { width: number; height: number; channels: 1; pixels: Uint8Array } {
  const grid = imageGrid(pixels, count, side, side, count);
  const width = grid.width;
  const height = grid.height + captionHeight;
  const out = new Uint8Array(width * height);
  out.set(grid.pixels);
  for (let n = 0; n < count; n++) {
    const glyph = glyphs[labels[n]!] ?? [];
    const left = n * side + Math.floor((side - 3 * glyphScale) / 2);
    const top = side + 2;
    glyph.forEach((row, gy) => {
      [...row].forEach((cell, gx) => {
        if (cell !== "#") return;
        for (let dy = 0; dy < glyphScale; dy++) {
          for (let dx = 0; dx < glyphScale; dx++) {
            out[(top + gy * glyphScale + dy) * width + left + gx * glyphScale + dx] = 255;
          }
        }
      });
    });
  }
  return { width, height, channels: 1, pixels: out };
}
